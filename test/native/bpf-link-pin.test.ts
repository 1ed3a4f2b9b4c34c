// Pinned links across processes: BpfLink.open(pin) re-adopts a link another handle (a dead agent)
// left attached, and updateProgram() swaps the program it runs without a second attachment.
// Needs root: it loads programs and attaches them to a cgroup and a netns it creates (ambit-t
// names, so a crashed run's leftovers are swept by the privileged tier), pinned under its own
// /sys/fs/bpf/ambit-t* directory. Everything is removed in afterAll, also when a test failed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { types } from 'node:util';
import { cgroupId, findCgroup2Mount } from '../../common/cgroup2';
import { AmbitError, ErrorCodes, type SystemErrorShape } from '../../common/errors';
import { Native, type BpfLink, type BpfObject } from '../../common/native/addon';
import { CleanupStack, createCgroup, createNetns } from '../../common/sandbox';
import { createPinDir } from '../../common/sandbox/bpffs';
import { harnessNamer } from '../harness/names';
import { requirePrivileged } from '../harness/privileges';

jest.setTimeout(60_000);

const cleanup = new CleanupStack();
const objects: BpfObject[] = [];
const handles: BpfLink[] = [];
let cgroup = '';
let netnsPath = '';
let netnsFd = -1;
let pins = '';

async function loaded(): Promise<BpfObject> {
  const o = Native.openObject();
  objects.push(o);
  await o.load();
  return o;
}

const track = (l: BpfLink): BpfLink => (handles.push(l), l);

/** Ids of the programs attached to the cgroup (its own attachments, not inherited ones). */
const cgroupPrograms = (dir: string): number[] =>
  (JSON.parse(execFileSync('bpftool', ['-j', 'cgroup', 'show', dir], { encoding: 'utf8' }).trim() || '[]') as Array<{ id: number }>).map(
    (p) => p.id,
  );

async function systemError(fn: () => unknown): Promise<SystemErrorShape> {
  try {
    await fn();
  } catch (e) {
    // Addon errors come from Node's main realm, not jest's: check the shape, not instanceof.
    expect(types.isNativeError(e)).toBe(true);
    return e as SystemErrorShape;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  requirePrivileged();
  const name = harnessNamer.next();
  cgroup = createCgroup(path.join(findCgroup2Mount(), name), cleanup);
  pins = await createPinDir(cleanup, name);
  const ns = await createNetns(name, cleanup);
  netnsPath = ns.path;
  netnsFd = fs.openSync(netnsPath, 'r');
});

afterAll(async () => {
  for (const l of handles.splice(0)) {
    try {
      l.unpin();
      l.detach();
    } catch {
      l.close();
    }
  }
  for (const o of objects.splice(0)) o.close();
  if (netnsFd >= 0) fs.closeSync(netnsFd);
  await cleanup.runAll();
});

describe('BpfLink pinned across handles', () => {
  it('cgroup link: reopened from its pin after the first handle and object are gone, then swapped to a new program in place', async () => {
    const first = await loaded();
    const attached = first.program('ambit_connect4').attachCgroup(cgroup);
    const pin = path.join(pins, 'link_connect4');
    attached.pin(pin);
    const oldProg = attached.info().progId;
    // What a killed agent leaves: no handle, no object; only the pin holds the attachment.
    attached.close();
    first.close();
    expect(cgroupPrograms(cgroup)).toEqual([oldProg]);

    const link = track(Native.openPinnedLink(pin));
    expect(link.pinPath).toBe(pin);
    expect(link.description).toContain('cgroup');
    expect(link.info()).toMatchObject({ type: 'cgroup', progId: oldProg, cgroupId: cgroupId(cgroup) });

    const second = await loaded();
    link.updateProgram(second.program('ambit_connect4'));
    const newProg = link.info().progId;
    expect(newProg).not.toBe(oldProg);
    // Same link, same single attachment, new program.
    expect(cgroupPrograms(cgroup)).toEqual([newProg]);

    link.unpin();
    expect(fs.existsSync(pin)).toBe(false);
    link.detach();
    expect(cgroupPrograms(cgroup)).toEqual([]);
  });

  it('netns (sk_lookup) link: reopened and updated; info names the namespace', async () => {
    const first = await loaded();
    const attached = first.program('ambit_sk_lookup').attachNetns(netnsFd);
    const pin = path.join(pins, 'netns_link');
    attached.pin(pin);
    attached.close();
    const link = track(Native.openPinnedLink(pin));
    expect(link.info()).toMatchObject({ type: 'netns', netnsIno: fs.statSync(netnsPath).ino });
    const before = link.info().progId;
    const second = await loaded();
    link.updateProgram(second.program('ambit_sk_lookup'));
    expect(link.info().progId).not.toBe(before);
    expect(link.info().id).toBe(link.id);
    link.unpin();
    link.detach();
  });

  it('sockmap verdict link: reopened and updated (kernel 6.10+ links)', async () => {
    const first = await loaded();
    const attached = first.program('ambit_sk_msg').attachSockmap(first.map('listeners'));
    const pin = path.join(pins, 'sockmap_link');
    attached.pin(pin);
    attached.close();
    const link = track(Native.openPinnedLink(pin));
    expect(link.info()).toMatchObject({ type: 'sockmap', mapId: expect.any(Number) });
    const before = link.info().progId;
    link.updateProgram(first.program('ambit_sk_msg')); // the same program again is allowed
    expect(link.info().progId).toBe(before);
    const second = await loaded();
    link.updateProgram(second.program('ambit_sk_msg'));
    expect(link.info().progId).not.toBe(before);
    link.unpin();
    link.detach();
  });
});

describe('BpfLink.open / updateProgram errors', () => {
  it('nothing pinned there: ENOENT from bpf_obj_get, with the path', async () => {
    const e = await systemError(() => Native.openPinnedLink(path.join(pins, 'missing')));
    expect(e).toMatchObject({ code: 'ENOENT', syscall: 'bpf_obj_get', path: path.join(pins, 'missing') });
    expect(e.message).toContain('nothing is pinned there');
  });

  it('a pinned map is not a link: EINVAL', async () => {
    const o = await loaded();
    const pin = path.join(pins, 'a_map');
    o.map('stats').pin(pin);
    try {
      const e = await systemError(() => Native.openPinnedLink(pin));
      expect(e).toMatchObject({ code: 'EINVAL', path: pin });
      expect(e.message).toContain('is not a BPF link');
    } finally {
      o.map('stats').unpin(pin);
    }
  });

  it('a relative pin path is refused before crossing', () => {
    expect(() => Native.openPinnedLink('link_connect4')).toThrow(AmbitError);
    try {
      Native.openPinnedLink('link_connect4');
    } catch (e) {
      expect((e as AmbitError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    }
  });

  it('a program of another type: EINVAL, and the link keeps its program', async () => {
    const o = await loaded();
    const link = track(o.program('ambit_connect4').attachCgroup(cgroup));
    const before = link.info().progId;
    const e = await systemError(() => link.updateProgram(o.program('ambit_sk_lookup')));
    expect(e).toMatchObject({ code: 'EINVAL', syscall: 'bpf_link_update' });
    expect(e.message).toContain('attach the new program');
    expect(link.info().progId).toBe(before);
    link.detach();
  });

  it('not a program, an unloaded program, a closed link', async () => {
    const o = await loaded();
    const link = track(o.program('ambit_connect4').attachCgroup(cgroup));
    const notProgram = await systemError(() => link.updateProgram({} as never));
    expect(notProgram).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    const unloaded = Native.openObject();
    objects.push(unloaded);
    expect(await systemError(() => link.updateProgram(unloaded.program('ambit_connect4')))).toMatchObject({ code: 'EBADF' });
    link.detach();
    expect(await systemError(() => link.updateProgram(o.program('ambit_connect4')))).toMatchObject({ code: 'EBADF', syscall: 'bpf_link_update' });
    expect(await systemError(() => link.info())).toMatchObject({ code: 'EBADF' });
  });
});
