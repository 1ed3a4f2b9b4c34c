/**
 * Control-plane errors: stable codes, messages that name what was wrong and what to do.
 * gRPC handlers map them to status codes (see `grpcStatusOf`).
 */
import { CodedError } from '../common/errors';
import { status as GrpcStatus } from '@grpc/grpc-js';

export const ControlPlaneErrorCodes = {
  /** A config document failed to parse or validate (file, document, field path in the message). */
  CONFIG_INVALID: 'AMBIT_ERR_CONFIG_INVALID',
  /** A source (YAML directory, Kubernetes API) cannot be read at all. */
  SOURCE_UNAVAILABLE: 'AMBIT_ERR_SOURCE_UNAVAILABLE',
  /** CSR malformed, wrong key type, identity not a SPIFFE ID of this trust domain. */
  CSR_INVALID: 'AMBIT_ERR_CSR_INVALID',
  /** The caller's node credential is missing or unknown. */
  UNAUTHENTICATED: 'AMBIT_ERR_UNAUTHENTICATED',
  /** The caller may not have this (e.g. an identity with no pod on its node). */
  PERMISSION_DENIED: 'AMBIT_ERR_PERMISSION_DENIED',
  /** CA state directory or root unusable. */
  CA_STATE: 'AMBIT_ERR_CA_STATE',
  /** A Watch stream broke the protocol (no subscribe first, unknown version in an ACK, ...). */
  PROTOCOL: 'AMBIT_ERR_PROTOCOL',
  /** Bad option passed to the control plane (port, path, trust domain). */
  INVALID_OPTION: 'AMBIT_ERR_INVALID_OPTION',
  /** A Kubernetes API request failed (RBAC, credentials, unreachable, missing CRD); retried. */
  KUBE_API: 'AMBIT_ERR_KUBE_API',
} as const;

export type ControlPlaneErrorCode = (typeof ControlPlaneErrorCodes)[keyof typeof ControlPlaneErrorCodes];

export class ControlPlaneError extends CodedError<ControlPlaneErrorCode> {}

const GRPC_STATUS: Record<ControlPlaneErrorCode, GrpcStatus> = {
  AMBIT_ERR_CONFIG_INVALID: GrpcStatus.INVALID_ARGUMENT,
  AMBIT_ERR_SOURCE_UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  AMBIT_ERR_CSR_INVALID: GrpcStatus.INVALID_ARGUMENT,
  AMBIT_ERR_UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  AMBIT_ERR_PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  AMBIT_ERR_CA_STATE: GrpcStatus.INTERNAL,
  AMBIT_ERR_PROTOCOL: GrpcStatus.FAILED_PRECONDITION,
  AMBIT_ERR_INVALID_OPTION: GrpcStatus.INVALID_ARGUMENT,
  AMBIT_ERR_KUBE_API: GrpcStatus.UNAVAILABLE,
};

/** The gRPC status for an error: ours map by code, anything else is INTERNAL. */
export function grpcStatusOf(err: unknown): GrpcStatus {
  return err instanceof ControlPlaneError ? GRPC_STATUS[err.code] : GrpcStatus.INTERNAL;
}
