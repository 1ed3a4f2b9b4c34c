// bpffs pin directories for tests: /sys/fs/bpf/ambit-t<pid36>-<n> (common/sandbox/bpffs.ts).
import { CleanupStack, createPinDir as createSandboxPinDir } from '../../common/sandbox';
import { nextName } from './names';

export { BPFFS, ensureBpffs, removePinDir } from '../../common/sandbox';

/** Creates a pin directory (default: a fresh name) and registers its removal on `cleanup`. */
export function createPinDir(cleanup: CleanupStack, name: string = nextName()): Promise<string> {
  return createSandboxPinDir(cleanup, name);
}
