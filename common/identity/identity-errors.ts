/**
 * Identity errors of the agent: stable codes an operator (and the enrollment path) can act on.
 * The control plane sends its own AMBIT_ERR_* code in the `ambit-error-code` trailer; it is kept
 * in `remoteCode` so logs show both sides' view of one refusal.
 */
import * as grpc from '@grpc/grpc-js';

export const IdentityErrorCodes = {
  /** The CA refused: no pod with this identity runs on this node (gRPC PERMISSION_DENIED). */
  NOT_ON_NODE: 'AMBIT_ERR_IDENTITY_NOT_ON_NODE',
  /** The CA did not accept the node token (gRPC UNAUTHENTICATED). */
  UNAUTHENTICATED: 'AMBIT_ERR_IDENTITY_UNAUTHENTICATED',
  /** The node token file is missing, unreadable or empty. */
  TOKEN: 'AMBIT_ERR_IDENTITY_TOKEN',
  /** The CA rejected the request as malformed (gRPC INVALID_ARGUMENT): a bug or a trust-domain mismatch. */
  REJECTED: 'AMBIT_ERR_IDENTITY_REJECTED',
  /** The returned chain failed verification (wrong SAN, wrong key, does not chain to the bundle). */
  BAD_CHAIN: 'AMBIT_ERR_IDENTITY_BAD_CHAIN',
  /** The CA could not be reached or failed (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, ...): retried. */
  UNAVAILABLE: 'AMBIT_ERR_IDENTITY_UNAVAILABLE',
  /** acquire() gave up waiting for a first certificate. */
  TIMEOUT: 'AMBIT_ERR_IDENTITY_TIMEOUT',
  /** The certificate manager was closed. */
  CLOSED: 'AMBIT_ERR_IDENTITY_CLOSED',
  /** A bad option or argument (validity, fractions, an identity not held on release). */
  INVALID_ARGUMENT: 'AMBIT_ERR_IDENTITY_INVALID_ARGUMENT',
} as const;

export type IdentityErrorCode = (typeof IdentityErrorCodes)[keyof typeof IdentityErrorCodes];

/** Codes for which waiting and retrying can help; the rest need an operator or a fix. */
const RETRYABLE: ReadonlySet<IdentityErrorCode> = new Set([IdentityErrorCodes.UNAVAILABLE, IdentityErrorCodes.TIMEOUT]);

export class IdentityError extends Error {
  /** The control plane's AMBIT_ERR_* code, when it sent one. */
  readonly remoteCode: string | undefined;
  /** The gRPC status of the failed call, when there was one. */
  readonly grpcCode: grpc.status | undefined;

  constructor(
    readonly code: IdentityErrorCode,
    message: string,
    options: { cause?: unknown; remoteCode?: string; grpcCode?: grpc.status } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'IdentityError';
    this.remoteCode = options.remoteCode;
    this.grpcCode = options.grpcCode;
  }

  /** True when a later attempt may succeed without anyone changing anything. */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** ControlPlane's trailer carrying its stable error code (control-plane/ca/certificate-service.ts). */
export const REMOTE_ERROR_CODE_METADATA = 'ambit-error-code';

/** Turns a failed CreateCertificate call into an IdentityError naming what to do. */
export function fromGrpcError(err: grpc.ServiceError, identity: string, address: string): IdentityError {
  const remote = err.metadata?.get(REMOTE_ERROR_CODE_METADATA)[0];
  const remoteCode = typeof remote === 'string' ? remote : undefined;
  const opts = { cause: err, remoteCode, grpcCode: err.code };
  const detail = err.details || err.message;
  switch (err.code) {
    case grpc.status.PERMISSION_DENIED:
      return new IdentityError(
        IdentityErrorCodes.NOT_ON_NODE,
        `the control plane refused ${identity}: identity not on this node (${detail}); ` +
          'a certificate is issued only while a pod with that service account is scheduled on this node',
        opts,
      );
    case grpc.status.UNAUTHENTICATED:
      return new IdentityError(
        IdentityErrorCodes.UNAUTHENTICATED,
        `the control plane at ${address} did not accept this node's token (${detail}); check the agent's node token`,
        opts,
      );
    case grpc.status.INVALID_ARGUMENT:
      return new IdentityError(IdentityErrorCodes.REJECTED, `the control plane rejected the request for ${identity}: ${detail}`, opts);
    default:
      return new IdentityError(
        IdentityErrorCodes.UNAVAILABLE,
        `certificate request for ${identity} to ${address} failed (${grpc.status[err.code] ?? err.code}): ${detail}`,
        opts,
      );
  }
}

export function closedError(what = 'the certificate manager is closed'): IdentityError {
  return new IdentityError(IdentityErrorCodes.CLOSED, what);
}

/** Anything a request threw, as an IdentityError; unknown failures count as retryable. */
export function asIdentityError(err: unknown, identity: string): IdentityError {
  if (err instanceof IdentityError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new IdentityError(IdentityErrorCodes.UNAVAILABLE, `certificate request for ${identity} failed: ${message}`, { cause: err });
}
