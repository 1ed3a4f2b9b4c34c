// cgroup v2 lookups shared by the agent and the test harness.
//
// cgroup-bpf programs (connect4, sockops, ...) attach to a cgroup v2 directory and the kernel
// identifies cgroups by id, so everything here is about the unified (v2) hierarchy only.
import * as fs from 'fs';
import { AmbitError, ErrorCodes } from './errors';

/** CGROUP2_SUPER_MAGIC from include/uapi/linux/magic.h. */
const CGROUP2_SUPER_MAGIC = 0x63677270;

// /proc/mounts escapes space, tab, newline and backslash as \ooo octal (see fs/proc_namespace.c).
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * The cgroup v2 mount point, read from /proc/mounts.
 * Hybrid hosts mount it at /sys/fs/cgroup/unified, unified ones at /sys/fs/cgroup; when several
 * cgroup2 mounts exist (bind mounts in containers) the conventional paths win, then the first one.
 */
export function findCgroup2Mount(mountsFile = '/proc/mounts'): string {
  const mounts = fs
    .readFileSync(mountsFile, 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f.length >= 3 && f[2] === 'cgroup2')
    .map((f) => unescapeMountField(f[1]));
  const preferred = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].find((p) => mounts.includes(p));
  const found = preferred ?? mounts[0];
  if (found === undefined) {
    throw new AmbitError(
      ErrorCodes.NO_CGROUP2,
      `no cgroup v2 filesystem is mounted (none in ${mountsFile}); ` +
        'boot with systemd.unified_cgroup_hierarchy=1 or run `mount -t cgroup2 none /sys/fs/cgroup/unified`',
    );
  }
  return found;
}

/**
 * The cgroup id the kernel reports for tasks in `path` (bpf_get_current_cgroup_id()): on cgroup v2
 * it is the inode number of the cgroup directory (kernfs node id).
 */
export function cgroupId(path: string): bigint {
  // A cgroup v1 directory also has an inode, but no BPF helper ever returns it: refuse it.
  if (fs.statfsSync(path).type !== CGROUP2_SUPER_MAGIC) {
    throw new AmbitError(ErrorCodes.NOT_CGROUP2, `${path} is not a cgroup v2 directory`);
  }
  return fs.statSync(path, { bigint: true }).ino;
}

/**
 * True when `path` is the root of the cgroup v2 hierarchy itself. Programs attached there capture
 * every process on the machine, so the agent refuses to attach to it.
 */
export function isCgroup2Root(path: string, mount: string = findCgroup2Mount()): boolean {
  return fs.realpathSync(path) === fs.realpathSync(mount);
}
