// Leftovers: harness resources (ambit-t<pid36>-<n>) that survive their run, e.g. after a SIGKILL
// or a jest timeout. A resource is swept only when the pid in its name no longer exists, so
// concurrent runs (other jest workers, other engineers' test runs) are never disturbed.
import * as fs from 'fs';
import * as path from 'path';
import { findCgroup2Mount } from '../../common/cgroup2';
import { BPFFS, ensureBpffs, removePinDir } from './bpffs';
import { removeCgroupTree } from './cgroup';
import { CleanupError } from './cleanup';
import { run } from './command';
import { creatorPid, NAME_PREFIX, pidAlive, runPrefix } from './names';
import { deleteNetns } from './netns';

export interface Leftovers {
  /** Network namespace names. */
  netns: string[];
  /** Absolute cgroup directories (top level of the cgroup2 mount). */
  cgroups: string[];
  /** Absolute bpffs pin directories. */
  pins: string[];
}

function namesIn(dir: string, prefix: string, dirsOnly: boolean): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.name.startsWith(prefix) && (!dirsOnly || e.isDirectory()))
    .map((e) => e.name)
    .sort();
}

/**
 * What of ours exists now. Default: this process's resources (`ambit-t<my pid36>-`); pass
 * NAME_PREFIX ('ambit-t') for every run's. Netns names come from /run/netns, which is exactly
 * what `ip netns list` reads.
 */
export function listLeftovers(prefix: string = runPrefix()): Leftovers {
  if (!prefix.startsWith(NAME_PREFIX)) throw new Error(`listLeftovers: prefix must start with ${NAME_PREFIX}`);
  const mount = findCgroup2Mount();
  return {
    netns: namesIn('/run/netns', prefix, false),
    cgroups: namesIn(mount, prefix, true).map((n) => path.join(mount, n)),
    pins: namesIn(BPFFS, prefix, false).map((n) => path.join(BPFFS, n)),
  };
}

const isEmpty = (l: Leftovers): boolean => l.netns.length + l.cgroups.length + l.pins.length === 0;

/** True when nothing with `prefix` remains. */
export function noLeftovers(prefix: string = runPrefix()): boolean {
  return isEmpty(listLeftovers(prefix));
}

function orphaned(name: string): boolean {
  const pid = creatorPid(name);
  return pid !== undefined && !pidAlive(pid);
}

/**
 * Removes the resources of dead runs: cgroups first (killing the processes in them, which also
 * frees their netns), then netns names, then pin directories. Returns what it removed; throws a
 * CleanupError after trying everything if some removal failed.
 */
export async function sweepLeftovers(): Promise<Leftovers> {
  const all = listLeftovers(NAME_PREFIX);
  const stale: Leftovers = {
    cgroups: all.cgroups.filter((p) => orphaned(path.basename(p))),
    netns: all.netns.filter(orphaned),
    pins: all.pins.filter((p) => orphaned(path.basename(p))),
  };
  const errors: Error[] = [];
  const attempt = async (fn: () => unknown): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      errors.push(err as Error);
    }
  };
  for (const dir of stale.cgroups) await attempt(() => removeCgroupTree(dir));
  for (const name of stale.netns) await attempt(() => deleteNetns(name));
  for (const dir of stale.pins) await attempt(() => removePinDir(dir));
  if (errors.length > 0) throw new CleanupError(errors);
  return stale;
}

/** jest globalSetup body: bpffs mounted, leftovers of crashed runs gone. */
export async function prepareHost(log: (line: string) => void = () => {}): Promise<void> {
  await ensureBpffs();
  const swept = await sweepLeftovers();
  if (!isEmpty(swept)) {
    log(`ambit harness: swept leftovers of dead runs: ${JSON.stringify(swept)}`);
  }
  // `ip netns` creates /run/netns lazily; make sure the tool works before any test relies on it.
  await run('ip', ['netns', 'list']);
}
