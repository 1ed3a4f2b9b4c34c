/**
 * Gateway API HTTPRouteFilter semantics as pure functions; the `filters` stage applies them to
 * the request in rule order. Ambit's FaultInjection comes in as an ExtensionRef whose target the
 * control plane resolved into `RouteFilter.fault`.
 */
import type { FaultInjection__Output } from '../../common/proto/generated/ambit/v1/FaultInjection';
import type { HeaderModifier__Output } from '../../common/proto/generated/ambit/v1/HeaderModifier';
import type { RequestMirror__Output } from '../../common/proto/generated/ambit/v1/RequestMirror';
import type { RequestRedirect__Output } from '../../common/proto/generated/ambit/v1/RequestRedirect';
import type { RouteFilter__Output } from '../../common/proto/generated/ambit/v1/RouteFilter';
import type { RouteMatch__Output } from '../../common/proto/generated/ambit/v1/RouteMatch';
import type { UrlRewrite__Output } from '../../common/proto/generated/ambit/v1/UrlRewrite';
import { hostOnly, pathOnly, type RequestFacts } from '../pipeline/request-facts';
import { modifiedPath, queryOf } from './path-modifier';

export type HeaderMap = Record<string, string | string[] | undefined>;

/**
 * HTTPHeaderFilter on a header map whose names are lower-case (as Node delivers them): `remove`,
 * then `set` (replaces every value), then `add` (appends, keeping existing values: "foo" + add
 * "bar" -> "foo", "bar", which HTTP reads as "foo,bar"). Values are kept as separate entries rather
 * than joined so that Set-Cookie survives a ResponseHeaderModifier. Remove runs first, as in
 * Envoy, so a remove never undoes a set or add in the same filter.
 */
export function applyHeaderModifier(headers: HeaderMap, m: HeaderModifier__Output): void {
  for (const name of m.remove) delete headers[name.toLowerCase()];
  for (const h of m.set) headers[h.name.toLowerCase()] = h.value;
  for (const h of m.add) {
    const name = h.name.toLowerCase();
    const prev = headers[name];
    headers[name] = prev === undefined ? h.value : Array.isArray(prev) ? [...prev, h.value] : [prev, h.value];
  }
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 };

/**
 * HTTPRequestRedirectFilter. Unset fields keep the request's: scheme, hostname (without the Host
 * header's port), path and query. Port: the filter's, else the new scheme's well-known port when
 * the filter sets a scheme, else the port the request arrived on (the Service port here, the
 * "listener port" of the spec); it is left out of Location when it is the scheme's default.
 */
export function redirectResponse(
  req: RequestFacts,
  r: RequestRedirect__Output,
  match: RouteMatch__Output | null,
  scheme: 'http' | 'https',
): { status: number; location: string } {
  const toScheme = r.scheme !== '' ? r.scheme.toLowerCase() : scheme;
  let host = r.hostname !== '' ? r.hostname : hostOnly(req.host);
  if (host === '') host = req.destination.address.includes(':') ? `[${req.destination.address}]` : req.destination.address;
  const port = r.port !== 0 ? r.port : r.scheme !== '' ? DEFAULT_PORTS[toScheme] ?? req.destination.port : req.destination.port;
  const portPart = port === DEFAULT_PORTS[toScheme] ? '' : `:${port}`;
  const path = modifiedPath(pathOnly(req.path), r.path, match) + queryOf(req.path);
  return { status: r.statusCode !== 0 ? r.statusCode : 302, location: `${toScheme}://${host}${portPart}${path}` };
}

/**
 * HTTPURLRewriteFilter: the path and Host the request is forwarded with. The query is kept; the
 * Host keeps what the client sent (port included) unless the filter sets a hostname.
 */
export function rewriteRequest(req: RequestFacts, r: UrlRewrite__Output, match: RouteMatch__Output | null): { path: string; host: string } {
  return {
    path: modifiedPath(pathOnly(req.path), r.path, match) + queryOf(req.path),
    host: r.hostname !== '' ? r.hostname : req.host,
  };
}

/**
 * The RequestMirror filters that fire for this request: each independently with its `percent`
 * (Gateway API HTTPRequestMirrorFilter.percent / fraction, made a percentage by the control plane).
 */
export function mirrorsOf(filters: readonly RouteFilter__Output[], random: () => number = Math.random): RequestMirror__Output[] {
  const out: RequestMirror__Output[] = [];
  for (const f of filters) {
    const m = f.type === 'RequestMirror' ? f.requestMirror : null;
    if (m === null || m.backend === null || m.percent <= 0) continue;
    if (m.percent >= 100 || random() * 100 < m.percent) out.push(m);
  }
  return out;
}

/** The FaultInjection an ExtensionRef filter resolved to, if any. */
export function faultOf(filters: readonly RouteFilter__Output[]): FaultInjection__Output | undefined {
  for (const f of filters) if (f.type === 'ExtensionRef' && f.fault != null) return f.fault;
  return undefined;
}

/**
 * True when an ExtensionRef filter did not resolve to any target Ambit knows (FaultInjection,
 * LocalRateLimit): Gateway API says a rule with an invalid filter must not be skipped over, the
 * request is answered 500 instead.
 */
export function invalidExtensionRef(filters: readonly RouteFilter__Output[]): boolean {
  for (const f of filters) {
    // `?? null`: objects built before rate_limit existed lack the field.
    if (f.type === 'ExtensionRef' && (f.fault ?? null) === null && (f.rateLimit ?? null) === null) return true;
  }
  return false;
}
