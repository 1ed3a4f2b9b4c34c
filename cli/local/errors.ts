import { CodedError } from '../../common/errors';
// Errors of the local runtime (`ambit local up|down|status`): stable codes, and messages that say
// what to do next.

export const LocalErrorCodes = {
  /** `ambit local` manipulates netns and cgroups: it needs root. */
  NOT_ROOT: 'AMBIT_ERR_LOCAL_NOT_ROOT',
  /** A runtime is already running for this state directory. */
  ALREADY_RUNNING: 'AMBIT_ERR_LOCAL_ALREADY_RUNNING',
  /** The YAML directory has errors (or objects the local runtime cannot run). */
  CONFIG_INVALID: 'AMBIT_ERR_LOCAL_CONFIG_INVALID',
  /** The runtime failed while starting (details in the message and runtime.log). */
  START_FAILED: 'AMBIT_ERR_LOCAL_START_FAILED',
  /** runtime.json / status.json unreadable or of another version. */
  STATE_CORRUPT: 'AMBIT_ERR_LOCAL_STATE_CORRUPT',
  /** `down` could not remove something; the message lists it. */
  TEARDOWN: 'AMBIT_ERR_LOCAL_TEARDOWN',
  /** A container could not be started (command missing, working directory outside the tree, ...). */
  CONTAINER_START: 'AMBIT_ERR_LOCAL_CONTAINER_START',
} as const;

export type LocalErrorCode = (typeof LocalErrorCodes)[keyof typeof LocalErrorCodes];

export class LocalError extends CodedError<LocalErrorCode> {}
