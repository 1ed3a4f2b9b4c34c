// bpffs pin directories: /sys/fs/bpf/<sandbox name>. Pinned maps and links outlive the process that
// created them, so each pin directory registers its own rm -rf.
import fs from 'node:fs';
import path from 'node:path';
import { CleanupStack } from './cleanup';
import { run } from './command';
import { NotOursError } from './errors';
import { isSandboxName } from './names';

export const BPFFS = '/sys/fs/bpf';

function bpffsMounted(): boolean {
  return fs
    .readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((line) => {
      const [, mountPoint, type] = line.split(' ');
      return mountPoint === BPFFS && type === 'bpf';
    });
}

/** Mounts the bpf filesystem at /sys/fs/bpf when nothing is mounted there (never unmounts). */
export async function ensureBpffs(): Promise<void> {
  if (!bpffsMounted()) await run('mount', ['-t', 'bpf', 'bpf', BPFFS]);
}

function assertOurPinDir(dir: string): string {
  const resolved = path.resolve(dir);
  if (path.dirname(resolved) !== BPFFS || !isSandboxName(path.basename(resolved))) {
    throw new NotOursError(dir, `not a ${BPFFS}/<sandbox name> pin directory`);
  }
  return resolved;
}

/** rm -rf of one of our pin directories (unlinking a pin drops the reference it held). */
export function removePinDir(dir: string): void {
  fs.rmSync(assertOurPinDir(dir), { recursive: true, force: true });
}

/** Creates pin directory /sys/fs/bpf/`name` and registers its removal on `cleanup`. */
export async function createPinDir(cleanup: CleanupStack, name: string): Promise<string> {
  await ensureBpffs();
  const dir = path.join(BPFFS, name);
  fs.mkdirSync(assertOurPinDir(dir));
  cleanup.defer(`bpffs ${dir}`, () => removePinDir(dir), { sync: () => removePinDir(dir) });
  return dir;
}
