// Privileged tests need root, BTF, cgroup v2 and the ip/nsenter tools. They call
// requirePrivileged() in beforeAll so that a run without them FAILS with a list of what to fix,
// instead of silently skipping and looking green.
import * as fs from 'fs';
import * as path from 'path';
import { findCgroup2Mount } from '../../common/cgroup2';

export class NotPrivilegedError extends Error {
  readonly code = 'AMBIT_ERR_NOT_PRIVILEGED';
  constructor(readonly missing: readonly string[]) {
    super(
      'privileged tests cannot run here:\n' +
        missing.map((m) => `  - ${m}`).join('\n') +
        '\nrun them as root on a Linux host with BTF, cgroup v2 and iproute2 (npm run test:privileged)',
    );
    this.name = 'NotPrivilegedError';
  }
}

// Capability bit numbers from include/uapi/linux/capability.h.
const CAPS: Record<string, number> = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_BPF: 39 };

function effectiveCaps(): bigint {
  const line = fs
    .readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CapEff:'));
  return line === undefined ? 0n : BigInt(`0x${line.slice('CapEff:'.length).trim()}`);
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((dir) => {
    try {
      fs.accessSync(path.join(dir, tool), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What is missing for privileged tests ([] when nothing). */
export function missingPrivileges(): string[] {
  const missing: string[] = [];
  if (process.platform !== 'linux') return [`Linux is required (this is ${process.platform})`];
  if (process.getuid?.() !== 0) missing.push(`not root (uid ${process.getuid?.()})`);
  const caps = effectiveCaps();
  for (const [name, bit] of Object.entries(CAPS)) {
    if ((caps & (1n << BigInt(bit))) === 0n) missing.push(`capability ${name} is not effective`);
  }
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) {
    missing.push('no /sys/kernel/btf/vmlinux (kernel built without CONFIG_DEBUG_INFO_BTF)');
  }
  try {
    findCgroup2Mount();
  } catch (err) {
    missing.push((err as Error).message);
  }
  for (const tool of ['ip', 'nsenter', 'mount']) {
    if (!onPath(tool)) missing.push(`\`${tool}\` is not on PATH (install iproute2 / util-linux)`);
  }
  return missing;
}

/** Throws NotPrivilegedError listing everything missing. */
export function requirePrivileged(): void {
  const missing = missingPrivileges();
  if (missing.length > 0) throw new NotPrivilegedError(missing);
}
