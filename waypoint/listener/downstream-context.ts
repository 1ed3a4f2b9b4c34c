/**
 * Who a downstream connection belongs to, attached to the connection object itself so the HTTP
 * servers' request handlers can find it: an HBONE tunnel knows the client's identity and what it
 * dialed (a Service VIP or workload IP); the plain listener knows only the client's address.
 * A symbol property survives the socket proxy Node's HTTP/2 compat layer puts in front of it.
 */
import type { TunnelHeaders } from '../../common/hbone/headers';
import type { RequestPeer, RequestTarget } from '../pipeline/request-facts';

export interface DownstreamContext {
  readonly peer: RequestPeer;
  /** What the client dialed; undefined on the plain listener (the Host header decides). */
  readonly target?: RequestTarget;
  /** True for HBONE (mutual TLS) connections. */
  readonly mtls: boolean;
  readonly tunnelHeaders?: TunnelHeaders;
}

const CONTEXT = Symbol('ambit.downstream');

export function setDownstreamContext(connection: object, ctx: DownstreamContext): void {
  (connection as Record<symbol, unknown>)[CONTEXT] = ctx;
}

export function downstreamContextOf(connection: object | null | undefined): DownstreamContext | undefined {
  return connection ? ((connection as Record<symbol, unknown>)[CONTEXT] as DownstreamContext | undefined) : undefined;
}
