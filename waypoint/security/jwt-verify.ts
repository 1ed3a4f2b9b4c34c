/**
 * Verifies one JWT against one JwtRule with jose, and names failures the way Envoy's jwt_authn
 * filter does ("Jwt is expired", "Jwt verification fails", ...), since that text is what Istio
 * users see in the 401 body.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { JwtRule__Output } from '../../common/proto/generated/ambit/v1/JwtRule';
import type { KeyResolver } from './jwks-cache';

/** Envoy's default clock skew for exp/nbf (jwt_authn clock_skew_seconds). */
export const CLOCK_SKEW_SECONDS = 60;

/** Envoy's supported JWS algorithms; "none" is never accepted. */
export const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'];

export type VerifyOutcome =
  | { readonly ok: true; readonly payload: JWTPayload }
  | { readonly ok: false; readonly reason: string; readonly unknownKey: boolean };

function failure(err: unknown, rule: JwtRule__Output): VerifyOutcome {
  const fail = (reason: string, unknownKey = false): VerifyOutcome => ({ ok: false, reason, unknownKey });
  if (err instanceof errors.JWTExpired) return fail('Jwt is expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return fail('Jwt not yet valid');
    if (err.claim === 'aud') return fail(`Audiences in Jwt are not allowed (want one of: ${rule.audiences.join(', ')})`);
    return fail(`Jwt claim "${err.claim}" is invalid: ${err.reason}`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) return fail("Jwks doesn't have key to match kid or alg from Jwt", true);
  if (err instanceof errors.JWSSignatureVerificationFailed) return fail('Jwt verification fails');
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return fail(`Jwt algorithm is not supported: ${(err as Error).message}`);
  if (err instanceof errors.JWKSMultipleMatchingKeys) return fail('Jwt verification fails: several JWKS keys match and none verified the signature');
  if (err instanceof errors.JOSEError) return fail(`Jwt is malformed: ${err.message}`);
  return fail(`Jwt verification fails: ${err instanceof Error ? err.message : String(err)}`);
}

/** jose checks signature, exp and nbf (with skew) and, when the rule lists audiences, that one is in aud. */
export async function verifyJwt(token: string, keys: KeyResolver, rule: JwtRule__Output, nowMs: number): Promise<VerifyOutcome> {
  try {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(nowMs),
      ...(rule.audiences.length > 0 ? { audience: rule.audiences } : {}),
    });
    return { ok: true, payload };
  } catch (err) {
    return failure(err, rule);
  }
}
