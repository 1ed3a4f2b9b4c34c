/**
 * Istio RequestAuthentication at the waypoint: find the request's JWT, verify it against the rule
 * of its issuer, and say who the request is from. Semantics (istio.io reference
 * security/request_authentication):
 *
 * - no token in any configured location -> 'none': the request goes on without a request
 *   principal; AuthorizationPolicy decides (requestPrincipals: ["*"] requires one);
 * - a token is present but invalid (malformed, unknown issuer, bad signature, expired, not yet
 *   valid, wrong audience, unusable JWKS) -> 'invalid': 401 with Envoy's reason;
 * - Istio leaves requests with several tokens "undefined"; we refuse them ('invalid') rather than
 *   pick one, so a second token can never change who the request is from;
 * - forwardOriginalToken false (default): the header / query parameter that carried the token is
 *   removed before the request goes upstream (cookies are left alone, as in Envoy).
 *
 * JWKS come from the rule's inline `jwks` or its `jwksUri` via JwksCache (no fetch per request).
 */
import { createLocalJWKSet, decodeJwt, type JWTPayload } from 'jose';
import { silentLogger, type Logger } from '../../common/log';
import type { JwtRule__Output } from '../../common/proto/generated/ambit/v1/JwtRule';
import type { RequestAuthentication__Output } from '../../common/proto/generated/ambit/v1/RequestAuthentication';
import { WaypointError, WaypointErrorCodes } from '../errors';
import { pathOnly, type RequestFacts } from '../pipeline/request-facts';
import type { AuthnFacts } from './authn-facts';
import { DEFAULT_JWKS_TIMEOUT_MS, JwksCache, JwksSource, KeysResult, parseJwks } from './jwks-cache';
import { acceptsLocation, findTokens, locationKey, TokenLocation } from './jwt-locations';
import { verifyJwt } from './jwt-verify';

export { requestAuthenticationsFor } from './target-refs';

export type AuthnResult =
  | { kind: 'none' }
  | {
      kind: 'authenticated';
      auth: AuthnFacts;
      issuer: string;
      removeHeaders: string[];
      setHeaders: Record<string, string>;
      removeQueryParams: string[];
    }
  | { kind: 'invalid'; reason: string };

export interface RequestAuthenticatorOptions {
  /** Where jwksUri documents come from (default: HTTP(S) GET). Ignored when `cache` is given. */
  readonly jwks?: JwksSource;
  /** A cache shared across config versions, so a new authenticator keeps the fetched key sets. */
  readonly cache?: JwksCache;
  readonly now?: () => number;
  readonly logger?: Logger;
}

const invalid = (reason: string): AuthnResult => ({ kind: 'invalid', reason });

/** A claim by name, or by dotted path when the top level has no such name (Istio's nested claims). */
function claimOf(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let v: unknown = payload;
  for (const part of name.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const audiencesOf = (aud: JWTPayload['aud']): string[] => (aud === undefined ? [] : Array.isArray(aud) ? aud : [aud]);

export class RequestAuthenticator {
  private readonly rules: JwtRule__Output[];
  private readonly cache: JwksCache;
  private readonly inline = new Map<string, KeysResult>();
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(policies: readonly RequestAuthentication__Output[], opts: RequestAuthenticatorOptions = {}) {
    this.rules = policies.flatMap((p) => p.jwtRules);
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? silentLogger;
    this.cache = opts.cache ?? new JwksCache(opts.jwks, { now: this.now, logger: this.log });
    // Warm the cache when config arrives, so the first request does not wait for the issuer.
    for (const r of this.rules) if (r.jwks === '' && r.jwksUri !== '') this.cache.prefetch(r.jwksUri, this.timeoutOf(r));
  }

  async authenticate(req: RequestFacts): Promise<AuthnResult> {
    if (this.rules.length === 0) return { kind: 'none' };
    const found = findTokens(req, this.rules);
    if (found.length === 0) return { kind: 'none' };
    const distinct = new Set(found.map((f) => f.token));
    if (distinct.size > 1) return invalid(`multiple JWTs in the request (${found.map((f) => locationKey(f.location)).join(', ')}); send one`);
    const token = found[0].token;
    const locations = found.map((f) => f.location);

    let payload: JWTPayload;
    try {
      payload = decodeJwt(token);
    } catch (err) {
      return invalid(`Jwt is malformed: ${(err as Error).message}`);
    }
    const issuer = payload.iss;
    if (typeof issuer !== 'string' || issuer === '') return invalid('Jwt has no "iss" claim');
    const candidates = this.rules.filter((r) => r.issuer === issuer && locations.some((l) => acceptsLocation(r, l)));
    if (candidates.length === 0) return invalid(`Jwt issuer is not configured: ${issuer}`);

    let firstFailure: string | undefined;
    for (const rule of candidates) {
      const outcome = await this.verify(token, rule);
      if (outcome.ok) return this.authenticated(token, outcome.payload, rule, locations);
      firstFailure ??= outcome.reason;
    }
    const reason = firstFailure ?? 'Jwt verification fails';
    this.log.debug({ code: WaypointErrorCodes.INVALID_TOKEN, issuer, reason }, 'request JWT rejected');
    return invalid(reason);
  }

  private timeoutOf(rule: JwtRule__Output): number {
    return rule.timeoutMs > 0 ? rule.timeoutMs : DEFAULT_JWKS_TIMEOUT_MS;
  }

  private async keysFor(rule: JwtRule__Output): Promise<KeysResult> {
    if (rule.jwks !== '') {
      let keys = this.inline.get(rule.jwks);
      if (keys === undefined) {
        try {
          keys = { ok: true, keys: createLocalJWKSet(parseJwks(rule.jwks)) };
        } catch (err) {
          keys = { ok: false, error: `inline jwks of ${rule.issuer} is invalid: ${(err as Error).message}` };
        }
        this.inline.set(rule.jwks, keys);
      }
      return keys;
    }
    if (rule.jwksUri === '') return { ok: false, error: `no jwks or jwksUri for ${rule.issuer} (OpenID discovery is not supported)` };
    const keys = await this.cache.keys(rule.jwksUri, this.timeoutOf(rule));
    if (keys.ok) return keys;
    const failure = new WaypointError(WaypointErrorCodes.JWKS_UNAVAILABLE, `JWKS for ${rule.issuer} could not be fetched from ${rule.jwksUri}: ${keys.error}`);
    return { ok: false, error: failure.message };
  }

  private async verify(token: string, rule: JwtRule__Output): Promise<{ ok: true; payload: JWTPayload } | { ok: false; reason: string }> {
    let keys = await this.keysFor(rule);
    if (!keys.ok) return { ok: false, reason: keys.error };
    let outcome = await verifyJwt(token, keys.keys, rule, this.now());
    // An unknown kid may mean the issuer rotated its keys: refetch once (rate-limited by the cache).
    if (!outcome.ok && outcome.unknownKey && rule.jwks === '' && (await this.cache.refreshForUnknownKey(rule.jwksUri, this.timeoutOf(rule)))) {
      keys = await this.keysFor(rule);
      if (keys.ok) outcome = await verifyJwt(token, keys.keys, rule, this.now());
    }
    return outcome;
  }

  private authenticated(token: string, payload: JWTPayload, rule: JwtRule__Output, locations: TokenLocation[]): AuthnResult {
    const forward = rule.forwardOriginalToken;
    const setHeaders: Record<string, string> = {};
    for (const { header, claim } of rule.outputClaimToHeaders) {
      const v = claimOf(payload, claim);
      if (v !== undefined && v !== null) setHeaders[header.toLowerCase()] = typeof v === 'string' ? v : JSON.stringify(v);
    }
    // Envoy forwards the payload segment as it was encoded (base64url), not re-serialized.
    if (rule.outputPayloadToHeader !== '') setHeaders[rule.outputPayloadToHeader.toLowerCase()] = token.split('.')[1];
    const azp = payload.azp;
    return {
      kind: 'authenticated',
      issuer: rule.issuer,
      auth: {
        principal: `${rule.issuer}/${payload.sub ?? ''}`,
        claims: payload,
        audiences: audiencesOf(payload.aud),
        ...(typeof azp === 'string' ? { presenter: azp } : {}),
      },
      removeHeaders: forward ? [] : [...new Set(locations.filter((l) => l.kind === 'header').map((l) => l.name))],
      removeQueryParams: forward ? [] : [...new Set(locations.filter((l) => l.kind === 'param').map((l) => l.name))],
      setHeaders,
    };
  }
}

export interface UnauthorizedResponse {
  readonly status: 401;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The 401 Envoy's jwt_authn filter answers: the reason as the body and an RFC 6750 challenge
 * whose realm is the request URL.
 */
export function unauthorizedResponse(result: { kind: 'invalid'; reason: string }, req?: Pick<RequestFacts, 'host' | 'path'>): UnauthorizedResponse {
  const realm = req === undefined ? 'ambit' : `http://${req.host}${pathOnly(req.path)}`;
  const safe = realm.replace(/["\\\r\n]/g, '');
  return {
    status: 401,
    headers: { 'www-authenticate': `Bearer realm="${safe}", error="invalid_token"`, 'content-type': 'text/plain; charset=utf-8' },
    body: result.reason,
  };
}
