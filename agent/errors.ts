/**
 * The agent's typed errors. Codes are stable (docs/troubleshooting.md lists each with its fix);
 * messages say what happened and, where it helps, what to do.
 */
import { CodedError } from '../common/errors';
export const AgentErrorCodes = {
  /** A setting (flag or environment variable) is missing or invalid. */
  INVALID_OPTION: 'AMBIT_ERR_AGENT_OPTION',
  /** The original destination of a captured connection is unknown (capture map miss). */
  NO_ORIGINAL_DESTINATION: 'AMBIT_ERR_NO_ORIGINAL_DESTINATION',
  /** A Service has no ready endpoint (or every endpoint refused the connection). */
  NO_HEALTHY_UPSTREAM: 'AMBIT_ERR_NO_HEALTHY_UPSTREAM',
  /** Traffic must go through a waypoint that has no address yet. */
  WAYPOINT_UNAVAILABLE: 'AMBIT_ERR_WAYPOINT_UNAVAILABLE',
  /** L4 authorization refused the connection. */
  DENIED: 'AMBIT_ERR_AUTHZ_DENIED',
  /** PeerAuthentication STRICT refused a plaintext connection. */
  PLAINTEXT_REFUSED: 'AMBIT_ERR_PLAINTEXT_REFUSED',
  /** The app inside the destination pod refused or did not answer. */
  UPSTREAM_CONNECT: 'AMBIT_ERR_UPSTREAM_CONNECT',
  /** No certificate (yet) for an identity the connection needs. */
  NO_CERTIFICATE: 'AMBIT_ERR_NO_CERTIFICATE',
  /** An HBONE request addressed a pod that is not enrolled on this node. */
  UNKNOWN_DESTINATION: 'AMBIT_ERR_UNKNOWN_DESTINATION',
  /** The agent is draining and takes no new connections. */
  DRAINING: 'AMBIT_ERR_DRAINING',
} as const;

export type AgentErrorCode = (typeof AgentErrorCodes)[keyof typeof AgentErrorCodes];

export class AgentError extends CodedError<AgentErrorCode> {}
