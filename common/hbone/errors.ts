/**
 * HBONE errors: stable codes, and messages that say which peer and what to check. A refused
 * tunnel carries the HTTP status and the server's reason (the `ambit-error` response header).
 * Identity refusals come from common/tls as TlsError (AMBIT_ERR_TLS_*).
 */

export const HboneErrorCodes = {
  /** The TCP connection to the peer's HBONE port failed. */
  CONNECT: 'AMBIT_ERR_HBONE_CONNECT',
  /** TCP + TLS + HTTP/2 set-up did not finish within connectTimeoutMs. */
  CONNECT_TIMEOUT: 'AMBIT_ERR_HBONE_CONNECT_TIMEOUT',
  /** TLS or HTTP/2 set-up failed (bad chain, expired, our certificate refused, no h2). */
  HANDSHAKE: 'AMBIT_ERR_HBONE_HANDSHAKE',
  /** The server answered the CONNECT with a status other than 200. */
  REJECTED: 'AMBIT_ERR_HBONE_REJECTED',
  /** The CONNECT stream or its connection failed before a response. */
  STREAM: 'AMBIT_ERR_HBONE_STREAM',
  /** A relayed connection or stream was reset or closed before it ended cleanly. */
  RESET: 'AMBIT_ERR_HBONE_RESET',
  /** The tunnel was reset or closed before the server accepted it. */
  STREAM_CLOSED: 'AMBIT_ERR_HBONE_STREAM_CLOSED',
  /** The pool or server was closed. */
  CLOSED: 'AMBIT_ERR_HBONE_CLOSED',
  /** An :authority that is not an IP literal and a port. */
  BAD_AUTHORITY: 'AMBIT_ERR_HBONE_BAD_AUTHORITY',
  /** A bad option or argument from the caller. */
  INVALID_OPTION: 'AMBIT_ERR_HBONE_INVALID_OPTION',
} as const;

export type HboneErrorCode = (typeof HboneErrorCodes)[keyof typeof HboneErrorCodes];

export interface HboneErrorDetails {
  cause?: unknown;
  /** HTTP status of a refused CONNECT. */
  status?: number;
  /** The server's reason for a refusal, when it gave one. */
  reason?: string;
  /** The stream was refused before the server processed it; safe to retry on another connection. */
  retryable?: boolean;
}

export class HboneError extends Error {
  readonly status?: number;
  readonly reason?: string;
  readonly retryable: boolean;

  constructor(
    readonly code: HboneErrorCode,
    message: string,
    details: HboneErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HboneError';
    this.status = details.status;
    this.reason = details.reason;
    this.retryable = details.retryable ?? false;
  }
}
