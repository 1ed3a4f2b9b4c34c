/**
 * Errors of the DNS proxy, with stable codes. A failed upstream never reaches
 * the app as an exception: the proxy turns it into SERVFAIL; these codes show
 * up in logs and in the per-query hook.
 */
import { CodedError } from '../../common/errors';

export const DnsErrorCodes = {
  /** The upstream resolver did not answer within the per-attempt timeout, after every retry. */
  UPSTREAM_TIMEOUT: 'AMBIT_ERR_DNS_UPSTREAM_TIMEOUT',
  /** The upstream resolver refused (ICMP port unreachable, TCP RST) or could not be reached. */
  UPSTREAM_UNREACHABLE: 'AMBIT_ERR_DNS_UPSTREAM_UNREACHABLE',
  /** The upstream answered with something that is not a DNS response to the query. */
  UPSTREAM_BAD_RESPONSE: 'AMBIT_ERR_DNS_UPSTREAM_BAD_RESPONSE',
  /** The proxy (or its upstream client) was closed while the query was in flight. */
  CLOSED: 'AMBIT_ERR_DNS_CLOSED',
  /** A Service hostname fed to the DNS table is not a valid DNS name. */
  INVALID_HOSTNAME: 'AMBIT_ERR_DNS_INVALID_HOSTNAME',
  /** A DNS proxy option is invalid (upstream address, port, timeout...). */
  INVALID_CONFIG: 'AMBIT_ERR_DNS_INVALID_CONFIG',
  /** The proxy's sockets could not be opened inside the pod. */
  BIND: 'AMBIT_ERR_DNS_BIND',
} as const;

export type DnsErrorCode = (typeof DnsErrorCodes)[keyof typeof DnsErrorCodes];

export class DnsError extends CodedError<DnsErrorCode> {}
