/**
 * The headers HBONE carries besides :authority: `forwarded` (RFC 7239) with the original client
 * address, W3C `baggage` and `traceparent`, passed through as-is, and our `ambit-error`, which
 * carries the reason for a refusal in the response headers so it survives without a body.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http2';
import net from 'node:net';

export const HBONE_ERROR_HEADER = 'ambit-error';

/** What a tunnel request may carry besides :authority. */
export interface TunnelHeaders {
  readonly forwarded?: string;
  readonly baggage?: string;
  readonly traceparent?: string;
}

const MAX_REASON = 256;

/** `for=<ip>`; IPv6 quoted and bracketed as RFC 7239 §6 requires. */
export function formatForwarded(clientIp: string): string {
  return net.isIPv6(clientIp) ? `for="[${clientIp}]"` : `for=${clientIp}`;
}

/** A fresh W3C traceparent (version 00, random non-zero trace and span IDs). */
export function newTraceparent(sampled = true): string {
  return `00-${nonZeroHex(16)}-${nonZeroHex(8)}-${sampled ? '01' : '00'}`;
}

/** A reason fit for a header value: printable ASCII only, at most 256 characters. */
export function headerSafeReason(reason: string): string {
  const clean = reason.replace(/[^\x20-\x7e]+/g, ' ').replace(/ {2,}/g, ' ').trim();
  return clean.length > MAX_REASON ? `${clean.slice(0, MAX_REASON - 3)}...` : clean;
}

/** The request headers as typed fields; repeated ones joined as HTTP allows for lists. */
export function tunnelHeadersOf(headers: IncomingHttpHeaders): TunnelHeaders {
  const one = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  return Object.freeze({ forwarded: one('forwarded'), baggage: one('baggage'), traceparent: one('traceparent') });
}

/** The request headers to send for `h`, leaving out absent ones. */
export function tunnelHeaderEntries(h: TunnelHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (h?.forwarded !== undefined) out.forwarded = h.forwarded;
  if (h?.baggage !== undefined) out.baggage = h.baggage;
  if (h?.traceparent !== undefined) out.traceparent = h.traceparent;
  return out;
}

function nonZeroHex(bytes: number): string {
  for (;;) {
    const b = randomBytes(bytes);
    if (b.some((x) => x !== 0)) return b.toString('hex');
  }
}
