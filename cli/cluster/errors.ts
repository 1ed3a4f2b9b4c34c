// Errors of the cluster commands (`ambit label`, `waypoint apply|list|delete`, `status`,
// `config-dump`): stable codes, and messages that say what to do next.
import { CodedError } from '../../common/errors';

export const CliErrorCodes = {
  /** No --kubeconfig/--context, and no local runtime runs for the state directory. */
  NO_TARGET: 'AMBIT_ERR_CLI_NO_TARGET',
  /** The local runtime's state (or a pod's network namespace) is readable by root only. */
  NOT_ROOT: 'AMBIT_ERR_CLI_NOT_ROOT',
  /** A name that is not a Kubernetes name (namespace, waypoint, node). */
  BAD_NAME: 'AMBIT_ERR_CLI_BAD_NAME',
  /** The namespace does not exist (no Namespace object, nothing in it). */
  UNKNOWN_NAMESPACE: 'AMBIT_ERR_CLI_UNKNOWN_NAMESPACE',
  /** A file of the directory has YAML syntax errors, so it cannot be edited (or searched) safely. */
  DIRECTORY_INVALID: 'AMBIT_ERR_CLI_DIRECTORY_INVALID',
  /** `waypoint apply`: a Gateway (or its Service or pod) of that name exists already. */
  WAYPOINT_EXISTS: 'AMBIT_ERR_CLI_WAYPOINT_EXISTS',
  /** `waypoint delete` / `config-dump waypoint`: no such waypoint. */
  WAYPOINT_NOT_FOUND: 'AMBIT_ERR_CLI_WAYPOINT_NOT_FOUND',
  /** `waypoint delete`: the waypoint is defined in a file of the user's, not by `waypoint apply`. */
  WAYPOINT_NOT_OURS: 'AMBIT_ERR_CLI_WAYPOINT_NOT_OURS',
  /** `config-dump agent`: no such node, or its agent is not running. */
  UNKNOWN_NODE: 'AMBIT_ERR_CLI_UNKNOWN_NODE',
  /** An admin, metrics or status endpoint did not answer. */
  UNREACHABLE: 'AMBIT_ERR_CLI_UNREACHABLE',
  /** The change was made but did not become live in time. */
  WAIT_TIMEOUT: 'AMBIT_ERR_CLI_WAIT_TIMEOUT',
  /** The local runtime stopped while the command was using it. */
  RUNTIME_STOPPED: 'AMBIT_ERR_CLI_RUNTIME_STOPPED',
  /** The command is not available on this target (e.g. `status` on Kubernetes). */
  NOT_SUPPORTED: 'AMBIT_ERR_CLI_NOT_SUPPORTED',
  /** The Kubernetes API refused or failed a request. */
  KUBE_API: 'AMBIT_ERR_CLI_KUBE_API',
} as const;

export type CliErrorCode = (typeof CliErrorCodes)[keyof typeof CliErrorCodes];

export class CliError extends CodedError<CliErrorCode> {}

/**
 * Runs a command body and turns a CliError into one line on stderr and exit code 1: a newcomer
 * sees what went wrong and what to do, not a stack trace. Anything else is a bug and is rethrown.
 */
export async function runCli(command: string, body: () => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await body()) ?? 0;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    process.stderr.write(`ambit ${command}: ${err.message} (${err.code})\n`);
    process.exitCode = 1;
  }
}
