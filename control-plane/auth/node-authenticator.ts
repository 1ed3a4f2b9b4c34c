/**
 * Who is calling: every agent RPC carries its node credential as `authorization: Bearer <token>`
 * (RFC 6750 §2.1), and an authenticator turns that into the node name the CA authorizes against
 * (plus, for a waypoint pod calling with its own credential, the one workload it may act for).
 * Local mode uses bootstrap tokens (bootstrap-token-authenticator.ts); Kubernetes uses TokenReview
 * on projected service-account tokens (kube/token-review-authenticator.ts), behind this interface.
 */
import type { Metadata } from '@grpc/grpc-js';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';

export interface AuthenticatedNode {
  /** The caller's node (for a workload caller: where its pod runs). */
  readonly node: string;
  /**
   * Set when the credential is one workload's own rather than a node agent's: the CA then issues
   * it only its own identity (ca/identity-authorization.ts).
   */
  readonly workload?: AuthenticatedWorkload;
}

/** A pod that asks for its own certificate (on Kubernetes: a waypoint, with its projected token). */
export interface AuthenticatedWorkload {
  readonly namespace: string;
  readonly pod: string;
  readonly serviceAccount: string;
  /** What it is, for messages and the audit log: "waypoint shop/waypoint". */
  readonly kind: string;
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
