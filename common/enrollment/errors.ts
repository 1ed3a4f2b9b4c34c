// Errors of the enrollment protocol (agent <-> CNI plugin / `ambit local`). The codes travel in
// nacks, so both ends name a failure the same way; a nack may also carry the code of the agent's
// own failure (e.g. AMBIT_ERR_POD_LIMIT), hence `code: string`.
import { ErrorCodes } from '../errors';

export const EnrollmentErrorCodes = {
  /** Not JSON, an unknown type, a missing or malformed field, or the wrong number of fds. */
  PROTOCOL: 'AMBIT_ERR_ENROLL_PROTOCOL',
  /** A valid message at the wrong point of the session (anything before hello, keep after snapshot_sent). */
  SEQUENCE: 'AMBIT_ERR_ENROLL_SEQUENCE',
  /** The two ends speak different protocol versions. */
  VERSION: 'AMBIT_ERR_ENROLL_VERSION',
  /** The peer may not enroll pods: only root may (SO_PEERCRED), and the socket file is 0600. */
  FORBIDDEN: 'AMBIT_ERR_ENROLL_FORBIDDEN',
  /** keep for a pod the agent does not have (e.g. the agent restarted): send add with its netns. */
  UNKNOWN_POD: 'AMBIT_ERR_ENROLL_UNKNOWN_POD',
  /**
   * cni_add for a pod the agent's mesh config does not list on this node (yet): the agent cannot
   * tell its identity nor whether it is ambient, so it refuses (fails closed); the CNI plugin
   * reports "try again later".
   */
  UNKNOWN_WORKLOAD: 'AMBIT_ERR_ENROLL_UNKNOWN_WORKLOAD',
  /** The agent did not answer in time. */
  TIMEOUT: 'AMBIT_ERR_ENROLL_TIMEOUT',
  /** The connection ended before the answer. */
  CLOSED: 'AMBIT_ERR_ENROLL_CLOSED',
  /** Nothing listens on the socket path. */
  UNAVAILABLE: 'AMBIT_ERR_ENROLL_UNAVAILABLE',
  /** The agent failed to enroll or remove a pod and its error had no code of its own. */
  FAILED: ErrorCodes.ENROLL,
} as const;

export type EnrollmentErrorCode = (typeof EnrollmentErrorCodes)[keyof typeof EnrollmentErrorCodes];

export class EnrollmentError extends Error {
  constructor(
    /** An EnrollmentErrorCodes value, or the code the agent's failure carried. */
    readonly code: string,
    /** Why, for the operator; what a nack carries as `reason`. */
    readonly reason: string,
    /** The request this answers; null for a session-level failure. */
    readonly id: string | null = null,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
    this.name = 'EnrollmentError';
  }
}
