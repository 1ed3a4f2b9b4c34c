// `ambit local down`: stop the runtime of a state directory and remove everything it created,
// also when it was killed (see teardown.ts). Idempotent.
import { statePaths } from './state-dir';
import { teardownRuntime } from './teardown';

export interface DownArgs {
  stateDir: string;
  /** Seconds the runtime gets to stop after SIGTERM before SIGKILL. */
  timeout: number;
}

export async function localDown(args: DownArgs): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('ambit local down: needs root (it removes network namespaces and cgroups); run it with sudo\n');
    return 1;
  }
  try {
    await teardownRuntime(statePaths(args.stateDir), { stopTimeoutMs: args.timeout * 1000, print: (l) => void process.stdout.write(`${l}\n`) });
    return 0;
  } catch (e) {
    process.stderr.write(`ambit local down: ${(e as Error).message}\n`);
    return 1;
  }
}
