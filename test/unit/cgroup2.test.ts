// common/cgroup2.ts: finding the cgroup v2 mount from a mounts table (fixtures, not the host's).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findCgroup2Mount } from '../../common/cgroup2';
import { AmbitError } from '../../common/errors';
import { thrown } from '../support/thrown';

// Lines as /proc/mounts prints them: device mountpoint fstype options dump pass.
const ROOTFS = 'overlay / overlay rw,relatime,lowerdir=/l,upperdir=/u,workdir=/w 0 0';
const PROC = 'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0';
const TMPFS_CGROUP = 'tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0';
const V1 = (ctrl: string) => `cgroup /sys/fs/cgroup/${ctrl} cgroup rw,nosuid,nodev,noexec,relatime,${ctrl} 0 0`;
const V2 = (at: string) => `cgroup2 ${at} cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0`;

const HYBRID = [ROOTFS, PROC, TMPFS_CGROUP, V2('/sys/fs/cgroup/unified'), V1('memory'), V1('cpu,cpuacct')];
const UNIFIED = [ROOTFS, PROC, V2('/sys/fs/cgroup')];
const LEGACY_ONLY = [ROOTFS, PROC, TMPFS_CGROUP, V1('memory'), V1('pids')];

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-cgroup2-unit-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes a fake mounts table and returns its path. */
function mounts(lines: string[], trailingNewline = true): string {
  const file = path.join(dir, 'mounts');
  fs.writeFileSync(file, lines.join('\n') + (trailingNewline ? '\n' : ''));
  return file;
}

describe('findCgroup2Mount', () => {
  it('finds the unified hierarchy of a hybrid host at /sys/fs/cgroup/unified', () => {
    expect(findCgroup2Mount(mounts(HYBRID))).toBe('/sys/fs/cgroup/unified');
  });

  it('finds the unified hierarchy of a cgroup-v2-only host at /sys/fs/cgroup', () => {
    expect(findCgroup2Mount(mounts(UNIFIED))).toBe('/sys/fs/cgroup');
  });

  it('reads the last line without a trailing newline', () => {
    expect(findCgroup2Mount(mounts(UNIFIED, false))).toBe('/sys/fs/cgroup');
  });

  it('prefers the conventional path over an earlier bind mount of cgroup2', () => {
    const table = [ROOTFS, V2('/var/lib/kubelet/pods/x/cgroup'), V2('/sys/fs/cgroup')];
    expect(findCgroup2Mount(mounts(table))).toBe('/sys/fs/cgroup');
  });

  it('falls back to the first cgroup2 mount at an unconventional path', () => {
    const table = [ROOTFS, V2('/run/cgroup2'), V2('/mnt/other')];
    expect(findCgroup2Mount(mounts(table))).toBe('/run/cgroup2');
  });

  it('unescapes octal escapes in the mount point (space as \\040)', () => {
    const table = [ROOTFS, V2('/mnt/my\\040cgroups')];
    expect(findCgroup2Mount(mounts(table))).toBe('/mnt/my cgroups');
  });

  it('does not take a cgroup v1 mount or a device named cgroup2 for the v2 filesystem', () => {
    const table = [...LEGACY_ONLY, 'cgroup2 /mnt/not-v2 tmpfs rw 0 0'];
    expect(() => findCgroup2Mount(mounts(table))).toThrow(AmbitError);
  });

  it('fails with AMBIT_ERR_NO_CGROUP2 and says how to fix it when no cgroup2 is mounted', () => {
    const e = thrown(() => findCgroup2Mount(mounts(LEGACY_ONLY)));
    expect(e).toBeInstanceOf(AmbitError);
    expect(e).toMatchObject({ code: 'AMBIT_ERR_NO_CGROUP2', name: 'AmbitError' });
    const message = (e as Error).message;
    expect(message).toMatch(/no cgroup v2 filesystem is mounted/);
    // Actionable: both remedies, the boot flag and the mount command.
    expect(message).toContain('systemd.unified_cgroup_hierarchy=1');
    expect(message).toContain('mount -t cgroup2');
  });

  it('fails the same way for an empty mounts table', () => {
    expect(thrown(() => findCgroup2Mount(mounts([], false)))).toMatchObject({ code: 'AMBIT_ERR_NO_CGROUP2' });
  });

  it('reports a missing mounts file as the fs error it is', () => {
    const missing = path.join(dir, 'no-such-mounts');
    expect(thrown(() => findCgroup2Mount(missing))).toMatchObject({ code: 'ENOENT', path: missing });
  });
});
