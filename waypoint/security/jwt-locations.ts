/**
 * Where a JwtRule looks for its token (Istio RequestAuthentication fromHeaders / fromParams /
 * fromCookies). A rule naming no location uses Istio's defaults: `Authorization: Bearer <token>`
 * and the `access_token` query parameter.
 */
import type { JwtRule__Output } from '../../common/proto/generated/ambit/v1/JwtRule';
import type { RequestFacts } from '../pipeline/request-facts';

export type TokenLocation =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string };

export interface FoundToken {
  readonly token: string;
  readonly location: TokenLocation;
}

export const locationKey = (l: TokenLocation): string => `${l.kind}:${l.name}`;

const DEFAULT_HEADER = { name: 'authorization', prefix: 'Bearer ' };
const DEFAULT_PARAM = 'access_token';

interface RuleLocations {
  readonly headers: ReadonlyArray<{ name: string; prefix: string }>;
  readonly params: readonly string[];
  readonly cookies: readonly string[];
}

export function locationsOf(rule: JwtRule__Output): RuleLocations {
  const none = rule.fromHeaders.length === 0 && rule.fromParams.length === 0 && rule.fromCookies.length === 0;
  if (none) return { headers: [DEFAULT_HEADER], params: [DEFAULT_PARAM], cookies: [] };
  return {
    headers: rule.fromHeaders.map((h) => ({ name: h.name.toLowerCase(), prefix: h.prefix })),
    params: rule.fromParams,
    cookies: rule.fromCookies,
  };
}

export function acceptsLocation(rule: JwtRule__Output, l: TokenLocation): boolean {
  const locs = locationsOf(rule);
  if (l.kind === 'header') return locs.headers.some((h) => h.name === l.name);
  return (l.kind === 'param' ? locs.params : locs.cookies).includes(l.name);
}

function headerValues(req: RequestFacts, name: string): string[] {
  const v = req.headers[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [String(v)];
}

/** Cookie header pairs ("a=1; b=2"); several cookie headers (HTTP/2) are all read. */
function cookies(req: RequestFacts): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of headerValues(req, 'cookie')) {
    for (const pair of line.split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0) out.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  return out;
}

function queryParams(req: RequestFacts): URLSearchParams {
  const q = req.path.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : req.path.slice(q + 1));
}

/**
 * Every token the rules' locations hold. A header whose value lacks the prefix holds no token (Envoy's
 * extractor); the prefix ("Bearer ") compares case-insensitively because auth schemes do (RFC 9110).
 */
export function findTokens(req: RequestFacts, rules: readonly JwtRule__Output[]): FoundToken[] {
  const found = new Map<string, FoundToken>();
  const add = (token: string, location: TokenLocation): void => {
    if (token !== '') found.set(`${locationKey(location)}=${token}`, { token, location });
  };
  const params = queryParams(req);
  const jar = cookies(req);
  for (const rule of rules) {
    const locs = locationsOf(rule);
    for (const h of locs.headers) {
      for (const v of headerValues(req, h.name)) {
        if (v.slice(0, h.prefix.length).toLowerCase() === h.prefix.toLowerCase()) add(v.slice(h.prefix.length).trim(), { kind: 'header', name: h.name });
      }
    }
    for (const p of locs.params) for (const v of params.getAll(p)) add(v, { kind: 'param', name: p });
    for (const c of locs.cookies) {
      const v = jar.get(c);
      if (v !== undefined) add(v, { kind: 'cookie', name: c });
    }
  }
  return [...found.values()];
}
