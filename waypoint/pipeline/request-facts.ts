/**
 * What every waypoint stage knows about one HTTP request, read once at `receive`. Stages take this
 * (or the part they need) instead of Node's request objects, so routing, authorization and
 * balancing are plain functions testable without sockets.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** The tunnel the request arrived in: who sent it and what they dialed. */
export interface RequestPeer {
  /** Client address as the waypoint sees it (the HBONE peer, or the `forwarded: for=` address). */
  readonly address: string;
  readonly port: number;
  /** spiffe://<td>/ns/<ns>/sa/<sa> from the client's certificate; undefined on a plaintext listener. */
  readonly identity?: string;
  /** "<td>/ns/<ns>/sa/<sa>" (Istio's source.principal form); undefined without identity. */
  readonly principal?: string;
  /** The identity's namespace. */
  readonly namespace?: string;
}

export interface RequestTarget {
  /** What the client dialed: a Service VIP (or a workload IP) and port, from the CONNECT :authority. */
  readonly address: string;
  readonly port: number;
}

export interface RequestFacts {
  /** Upper-case method, e.g. "GET". */
  readonly method: string;
  /** Path and query as received (":path" or the HTTP/1 request target), e.g. "/a/b?x=1". */
  readonly path: string;
  /** Host header / :authority, lower-cased, as sent (may carry ":port"). */
  readonly host: string;
  /** Request headers with lower-case names (HTTP/2 pseudo-headers removed). */
  readonly headers: IncomingHttpHeaders;
  readonly protocol: 'HTTP/1.1' | 'HTTP/2';
  /** content-type application/grpc*. */
  readonly grpc: boolean;
  readonly source: RequestPeer;
  readonly destination: RequestTarget;
}

/** The path without its query string. */
export function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/** The host without a ":port" suffix (IPv6 literals keep their brackets). */
export function hostOnly(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** First value of a header (lower-case name), or undefined. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : String(v);
}
