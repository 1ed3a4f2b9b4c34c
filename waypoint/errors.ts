/**
 * The waypoint's typed errors. Codes are stable (docs/troubleshooting.md lists each with its fix);
 * messages say what happened and, where it helps, what to do. Errors that end a request map to an
 * HTTP status and an Envoy-style response flag (UH, UF, URX, UO, UT, DI, FI, RL, NR, UAEX).
 */
import { CodedError } from '../common/errors';
export const WaypointErrorCodes = {
  /** A setting (flag or environment variable) is missing or invalid. */
  INVALID_OPTION: 'AMBIT_ERR_WAYPOINT_OPTION',
  /** No route of the service matched the request (404). */
  NO_ROUTE: 'AMBIT_ERR_NO_ROUTE',
  /** The request addressed something the waypoint does not serve (404/503). */
  UNKNOWN_SERVICE: 'AMBIT_ERR_UNKNOWN_SERVICE',
  /** The chosen backend has no ready endpoint, or all are ejected (503 UH). */
  NO_HEALTHY_UPSTREAM: 'AMBIT_ERR_NO_HEALTHY_UPSTREAM',
  /** The backend could not be reached or reset the request (503 UF / URX). */
  UPSTREAM_FAILURE: 'AMBIT_ERR_UPSTREAM_FAILURE',
  /** A timeout (request or backendRequest) fired (504 UT). */
  UPSTREAM_TIMEOUT: 'AMBIT_ERR_UPSTREAM_TIMEOUT',
  /** A DestinationRule connectionPool limit was reached (503 UO). */
  OVERFLOW: 'AMBIT_ERR_UPSTREAM_OVERFLOW',
  /** L7 authorization refused the request (403 "RBAC: access denied"). */
  DENIED: 'AMBIT_ERR_AUTHZ_DENIED',
  /** A JWT was present but invalid (401). */
  INVALID_TOKEN: 'AMBIT_ERR_INVALID_JWT',
  /** A JWKS could not be fetched or parsed. */
  JWKS_UNAVAILABLE: 'AMBIT_ERR_JWKS_UNAVAILABLE',
  /** The local rate limit of the route was exceeded (429 RL). */
  RATE_LIMITED: 'AMBIT_ERR_RATE_LIMITED',
  /** A malformed or unsafe request (400/431) was refused. */
  BAD_REQUEST: 'AMBIT_ERR_BAD_REQUEST',
  /** The route's backend cannot be used (not a Service, or not allowed) (500). */
  INVALID_BACKEND: 'AMBIT_ERR_INVALID_BACKEND',
  /** No certificate (yet) for the waypoint's own identity. */
  NO_CERTIFICATE: 'AMBIT_ERR_NO_CERTIFICATE',
  /** The waypoint is draining and takes no new requests. */
  DRAINING: 'AMBIT_ERR_DRAINING',
} as const;

export type WaypointErrorCode = (typeof WaypointErrorCodes)[keyof typeof WaypointErrorCodes];

export class WaypointError extends CodedError<WaypointErrorCode> {}
