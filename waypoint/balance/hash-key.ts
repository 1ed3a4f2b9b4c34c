/**
 * The consistent-hash key of a request, from DestinationRule loadBalancer.consistentHash.hashKey
 * (Envoy's route hash_policy). No key (the header, cookie or parameter is absent) means the balancer
 * picks at random, as Envoy does.
 */
import type { ConsistentHash__Output } from '../../common/proto/generated/ambit/v1/ConsistentHash';
import type { RequestFacts } from '../pipeline/request-facts';
import { headerValue } from '../pipeline/request-facts';
import { hash53 } from './hash';

export interface HashKey {
  readonly key?: string;
  /** Set-Cookie value to add to the response when the waypoint generated the session cookie. */
  readonly setCookie?: string;
}

let generated = 0;

export function hashKeyOf(ch: ConsistentHash__Output, req: RequestFacts, now: number = Date.now()): HashKey {
  switch (ch.hashKey ?? inferHashKey(ch)) {
    case 'httpHeaderName': {
      const v = headerValue(req.headers, (ch.httpHeaderName ?? '').toLowerCase());
      return v === undefined ? {} : { key: v };
    }
    case 'httpCookie':
      return cookieKey(ch, req, now);
    case 'useSourceIp':
      return ch.useSourceIp === true ? { key: req.source.address } : {};
    case 'httpQueryParameterName': {
      const v = queryParameter(req.path, ch.httpQueryParameterName ?? '');
      return v === undefined ? {} : { key: v };
    }
    default:
      return {};
  }
}

/** The oneof case when the discriminant was not decoded (objects built by hand). */
function inferHashKey(ch: ConsistentHash__Output): ConsistentHash__Output['hashKey'] {
  if (ch.httpHeaderName) return 'httpHeaderName';
  if (ch.httpCookie) return 'httpCookie';
  if (ch.useSourceIp) return 'useSourceIp';
  if (ch.httpQueryParameterName) return 'httpQueryParameterName';
  return undefined;
}

/**
 * Istio/Envoy cookie affinity: hash the cookie's value. When the request has none and a ttl is set,
 * the proxy makes one up, hashes that, and sets it on the response (Path, Max-Age, HttpOnly) so the
 * client's next requests carry it. Envoy derives the value from the chosen host; Ambit must know
 * the key before picking, so it derives it from the client address and time, which is just as
 * opaque and sticky. A zero ttl generates nothing (Envoy's session-cookie case needs an explicit
 * zero, which proto3 cannot tell from unset).
 */
function cookieKey(ch: ConsistentHash__Output, req: RequestFacts, now: number): HashKey {
  const cookie = ch.httpCookie;
  if (cookie === null || cookie === undefined || cookie.name === '') return {};
  const v = cookieValue(req.headers.cookie, cookie.name);
  if (v !== undefined) return { key: v };
  if (cookie.ttlMs <= 0) return {};
  const value = hash53(`${req.source.address}|${req.source.port}|${now}|${generated++}`).toString(16).padStart(14, '0');
  const attrs = [`${cookie.name}="${value}"`, `Max-Age=${Math.ceil(cookie.ttlMs / 1000)}`];
  if (cookie.path !== '') attrs.push(`Path=${cookie.path}`);
  attrs.push('HttpOnly');
  return { key: value, setCookie: attrs.join('; ') };
}

/** A cookie's value from Cookie header(s) (RFC 6265 §5.4), surrounding quotes removed. */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const line of Array.isArray(header) ? header : [header]) {
    for (const pair of line.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
      const v = pair.slice(eq + 1).trim();
      return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
    }
  }
  return undefined;
}

/** First value of a query parameter, percent-decoded (a present but empty parameter is ""). */
export function queryParameter(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q === -1 || name === '') return undefined;
  const hash = path.indexOf('#', q);
  for (const part of path.slice(q + 1, hash === -1 ? undefined : hash).split('&')) {
    const eq = part.indexOf('=');
    const k = eq === -1 ? part : part.slice(0, eq);
    if (decode(k) === name) return eq === -1 ? '' : decode(part.slice(eq + 1));
  }
  return undefined;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
