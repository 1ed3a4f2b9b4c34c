/**
 * Workload mTLS errors: stable codes, messages naming both identities so an operator can tell a
 * wrong destination from a wrong trust bundle.
 */
import { CodedError } from '../errors';

export const TlsErrorCodes = {
  /** The peer's SPIFFE ID is valid but not one we expect (identity or trust domain). */
  PEER_IDENTITY: 'AMBIT_ERR_TLS_PEER_IDENTITY',
  /** The peer presented no certificate, or one without exactly one valid SPIFFE URI SAN. */
  NO_PEER_IDENTITY: 'AMBIT_ERR_TLS_NO_PEER_IDENTITY',
  /** Our own WorkloadCertificate cannot be used for TLS (empty chain or bundle, bad PEM). */
  CERTIFICATE: 'AMBIT_ERR_TLS_CERTIFICATE',
} as const;

export type TlsErrorCode = (typeof TlsErrorCodes)[keyof typeof TlsErrorCodes];

export class TlsError extends CodedError<TlsErrorCode> {}
