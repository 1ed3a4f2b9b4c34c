// Which cluster a command acts on: Kubernetes when --kubeconfig or --context says so, else the
// local runtime running for --state-dir (found through its runtime.json, as `ambit local status`
// finds it). Nothing else is guessed: with neither, the error says how to get one.
import type { Options } from 'yargs';
import { isRunning } from '../../common/sandbox';
import { LocalError } from '../local/errors';
import { DEFAULT_STATE_DIR, statePaths } from '../local/state-dir';
import { readRuntimeRecord } from '../local/teardown';
import { CliError, CliErrorCodes } from './errors';
import { LocalTarget } from './local-target';
import type { ClusterTarget } from './target';

export const targetOptions = {
  'state-dir': { type: 'string', default: DEFAULT_STATE_DIR, describe: 'State directory of the local runtime to act on' },
  kubeconfig: { type: 'string', describe: 'Act on the Kubernetes cluster of this kubeconfig instead of the local runtime' },
  context: { type: 'string', describe: 'Kubernetes context to use (implies Kubernetes; default: the current context)' },
} as const satisfies Record<string, Options>;

export interface TargetArgs {
  'state-dir': string;
  kubeconfig?: string;
  context?: string;
}

/** The local runtime of `stateDir`; NO_TARGET / NOT_ROOT when there is none to use. */
export function localTarget(stateDir: string): LocalTarget {
  const paths = statePaths(stateDir);
  let rec;
  try {
    rec = readRuntimeRecord(paths);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new CliError(CliErrorCodes.NOT_ROOT, `the local runtime's state in ${paths.dir} is readable by root only; run this with sudo`);
    }
    if (e instanceof LocalError) throw new CliError(CliErrorCodes.NO_TARGET, e.message);
    throw e;
  }
  if (rec === undefined) {
    throw new CliError(
      CliErrorCodes.NO_TARGET,
      `no local runtime is running${stateDir === DEFAULT_STATE_DIR ? '' : ` for ${paths.dir}`}: start one with \`sudo ambit local up -f <dir>\`, or pass --kubeconfig`,
    );
  }
  if (!isRunning(rec.runtime)) {
    throw new CliError(CliErrorCodes.NO_TARGET, `the local runtime of ${paths.dir} (pid ${rec.runtime.pid}) is not running any more; \`ambit local down\` cleans up after it, \`sudo ambit local up -f <dir>\` starts a new one`);
  }
  return new LocalTarget(paths, rec);
}

export async function openTarget(args: TargetArgs): Promise<ClusterTarget> {
  if (args.kubeconfig !== undefined || args.context !== undefined) {
    const { KubeTarget } = await import('./kube-target');
    return KubeTarget.open({ kubeconfig: args.kubeconfig, context: args.context });
  }
  return localTarget(args['state-dir']);
}

/** For commands only the local runtime can answer yet (status, config-dump). */
export function requireLocal(args: TargetArgs, command: string): LocalTarget {
  if (args.kubeconfig !== undefined || args.context !== undefined) {
    throw new CliError(CliErrorCodes.NOT_SUPPORTED, `\`ambit ${command}\` works on the local runtime only so far; on Kubernetes use kubectl (e.g. \`kubectl -n ambit-system port-forward\` to the admin port)`);
  }
  return localTarget(args['state-dir']);
}
