/**
 * Typed errors with stable codes, shared by the agent, waypoint and CLI.
 * Native failures stay SystemError-shaped (`code: 'ENOENT'`, `errno`, `syscall`);
 * Ambit-level failures carry an AMBIT_ERR_* code and, when they wrap one, `cause`.
 */
import { types } from 'node:util';

export const ErrorCodes = {
  NATIVE_NOT_BUILT: 'AMBIT_ERR_NATIVE_NOT_BUILT',
  BPF_LOAD: 'AMBIT_ERR_BPF_LOAD',
  BPF_ATTACH: 'AMBIT_ERR_BPF_ATTACH',
  ROOT_CGROUP: 'AMBIT_ERR_ROOT_CGROUP',
  NO_CGROUP2: 'AMBIT_ERR_NO_CGROUP2',
  NOT_CGROUP2: 'AMBIT_ERR_NOT_CGROUP2',
  ENROLL: 'AMBIT_ERR_ENROLL',
  POD_LIMIT: 'AMBIT_ERR_POD_LIMIT',
  INVALID_ARGUMENT: 'AMBIT_ERR_INVALID_ARGUMENT',
  NOT_PRIVILEGED: 'AMBIT_ERR_NOT_PRIVILEGED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * An error with a stable AMBIT_ERR_* code. Each module narrows the code to its own set
 * (`class AgentError extends CodedError<AgentErrorCode> {}`); `name` is the subclass's name.
 */
export class CodedError<C extends string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class AmbitError extends CodedError<ErrorCode> {}

/** The fields Node's SystemError carries; the addon throws errors of this shape. */
export interface SystemErrorShape extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  /** libbpf's log tail (e.g. the verifier log) when the kernel refused something. */
  details?: string;
}

export function isSystemError(e: unknown): e is SystemErrorShape {
  return (
    // isNativeError, not instanceof: errors made by the addon or in another context are still errors.
    types.isNativeError(e) &&
    typeof (e as SystemErrorShape).code === 'string' &&
    typeof (e as SystemErrorShape).errno === 'number' &&
    typeof (e as SystemErrorShape).syscall === 'string'
  );
}
