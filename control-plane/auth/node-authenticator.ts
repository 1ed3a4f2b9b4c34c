/**
 * Who is calling: every agent RPC carries its node credential as `authorization: Bearer <token>`
 * (RFC 6750 §2.1), and an authenticator turns that into the node name the CA authorizes against.
 * Local mode uses bootstrap tokens (bootstrap-token-authenticator.ts); Kubernetes will use
 * TokenReview on the agent's projected service-account token, behind this same interface.
 */
import type { Metadata } from '@grpc/grpc-js';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';

export interface AuthenticatedNode {
  readonly node: string;
}

export interface NodeAuthenticator {
  /** The caller's node; throws UNAUTHENTICATED when the credential is missing, malformed or unknown. */
  authenticate(metadata: Metadata): AuthenticatedNode | Promise<AuthenticatedNode>;
}

/** RFC 6750 §2.1 b64token; longer values are not tokens any authenticator here issues. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_HEADER = 8192;

/** The bearer token in `authorization` metadata; throws UNAUTHENTICATED naming what is wrong. */
export function bearerToken(metadata: Metadata): string {
  const values = metadata.get('authorization');
  if (values.length === 0) {
    throw unauthenticated('missing "authorization" metadata; the agent must send "authorization: Bearer <node token>"');
  }
  if (values.length > 1) throw unauthenticated(`"authorization" metadata appears ${values.length} times; send it once`);
  const value = values[0];
  if (typeof value !== 'string' || value.length > MAX_HEADER) {
    throw unauthenticated('malformed "authorization" metadata; expected "Bearer <node token>"');
  }
  const m = BEARER.exec(value);
  if (m === null) throw unauthenticated('malformed "authorization" metadata; expected "Bearer <node token>"');
  return m[1];
}

export function unauthenticated(message: string): ControlPlaneError {
  return new ControlPlaneError(ControlPlaneErrorCodes.UNAUTHENTICATED, message);
}
