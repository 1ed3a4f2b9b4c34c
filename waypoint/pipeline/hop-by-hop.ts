/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded: the fixed
 * set plus every header the Connection header names. HTTP/2 forbids them outright (RFC 9113
 * §8.2.2), so stripping them is also what makes an HTTP/1 request safe to send over HTTP/2.
 * `te: trailers` is the one value HTTP/2 allows and gRPC needs.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authenticate', 'proxy-authorization', 'http2-settings']);

/** A copy of `headers` without hop-by-hop headers and HTTP/2 pseudo-headers. */
export function endToEndHeaders(headers: IncomingHttpHeaders, keepUpgrade = false): OutgoingHttpHeaders {
  const named = new Set<string>();
  const conn = headers.connection;
  if (conn) for (const n of String(conn).split(',')) named.add(n.trim().toLowerCase());
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || k.startsWith(':')) continue;
    if (k === 'te') {
      if (String(v).toLowerCase().includes('trailers')) out.te = 'trailers';
      continue;
    }
    if (keepUpgrade && (k === 'upgrade' || k === 'connection')) {
      out[k] = v as string;
      continue;
    }
    if (HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v as string | string[];
  }
  return out;
}
