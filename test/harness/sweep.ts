// Leftovers of test runs: harness resources (ambit-t<pid36>-<n>) that survive their run, e.g. after
// a SIGKILL or a jest timeout. The sandbox sweeper (common/sandbox/sweep.ts) removes a resource only
// when the pid in its name no longer exists, so concurrent runs are never disturbed; the local
// runtime's resources (ambit-l…) are never touched from here.
import {
  ensureBpffs,
  isEmpty,
  Leftovers,
  listLeftovers as listSandboxLeftovers,
  run,
  sweepLeftovers as sweepSandboxLeftovers,
} from '../../common/sandbox';
import { NAME_PREFIX, runPrefix } from './names';

export type { Leftovers } from '../../common/sandbox';

/**
 * What of ours exists now. Default: this process's resources (`ambit-t<my pid36>-`); pass
 * NAME_PREFIX ('ambit-t') for every run's.
 */
export function listLeftovers(prefix: string = runPrefix()): Leftovers {
  if (!prefix.startsWith(NAME_PREFIX)) throw new Error(`listLeftovers: prefix must start with ${NAME_PREFIX}`);
  return listSandboxLeftovers(prefix);
}

/** True when nothing with `prefix` remains. */
export function noLeftovers(prefix: string = runPrefix()): boolean {
  return isEmpty(listLeftovers(prefix));
}

/** Removes the harness resources of dead runs; returns what it removed. */
export function sweepLeftovers(): Promise<Leftovers> {
  return sweepSandboxLeftovers(NAME_PREFIX);
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
