/**
 * One attachment that outlives the agent process: pinned on bpffs, so a killed or restarting agent
 * leaves capture in place (failing closed: nothing listens on the ports it redirects to), and the
 * next agent re-adopts it. Re-adopting swaps the new program into the existing link
 * (BPF_LINK_UPDATE): the hook never runs without a program and is never attached twice.
 */
import fs from 'node:fs';
import { Native, type BpfLink, type BpfLinkInfo, type BpfProgram } from '../../common/native/addon';

export interface PinnedLinkRequest {
  /** Where the link is (or will be) pinned; none: attach and keep nothing. */
  pinPath?: string;
  program: BpfProgram;
  attach: () => BpfLink;
  /** Whether a pinned link is attached where this one belongs (not a stale target). */
  fits: (info: BpfLinkInfo) => boolean;
  /** Told when a pinned link could not be updated and was replaced instead. */
  onReplace?: (why: Error) => void;
}

export interface AdoptedLink {
  link: BpfLink;
  /** True when the link existed before (pinned) and now runs `program`. */
  adopted: boolean;
}

/**
 * The pinned link, updated to `program`; or, when none is pinned there, a new attachment, pinned.
 * A pinned link that is attached elsewhere, defunct (its cgroup or netns is gone) or cannot be
 * updated is replaced make-before-break: the new attachment exists before the old one goes.
 */
export function adoptOrAttach(req: PinnedLinkRequest): AdoptedLink {
  const { pinPath } = req;
  if (!pinPath) return { link: req.attach(), adopted: false };
  if (!fs.existsSync(pinPath)) return { link: attachPinned(req, pinPath), adopted: false };

  const old = Native.openPinnedLink(pinPath);
  try {
    if (req.fits(old.info())) {
      old.updateProgram(req.program);
      return { link: old, adopted: true };
    }
    req.onReplace?.(new Error(`${old.description} is attached elsewhere or defunct`));
  } catch (e) {
    // EINVAL/ENOTSUP: the kernel cannot swap programs on this link type, or the pinned program
    // no longer fits (another Ambit version). Replace the link instead.
    req.onReplace?.(e as Error);
  }
  try {
    // Pin beside, then rename over the old pin (atomic on bpffs): at every instant one of the two
    // links is pinned, so a crash here cannot leave the hook without a program once we exit.
    // (`_new`: bpffs refuses names with a dot.) One left by a crash in this very step goes first.
    fs.rmSync(`${pinPath}_new`, { force: true });
    const fresh = attachPinned(req, `${pinPath}_new`);
    fs.renameSync(`${pinPath}_new`, pinPath);
    fresh.close(); // pinned: stays attached; reopen it under its final path
    return { link: Native.openPinnedLink(pinPath), adopted: false };
  } finally {
    old.close(); // its pin is gone (renamed over): closing the last handle ends it
  }
}

function attachPinned(req: PinnedLinkRequest, pinPath: string): BpfLink {
  const link = req.attach();
  try {
    link.pin(pinPath);
  } catch (e) {
    // A legacy attachment (sockmap verdict before kernel 6.10) has no link to pin; the map keeps it.
    if ((e as { code?: string }).code === 'ENOTSUP') return link;
    link.detach();
    throw e;
  }
  return link;
}
