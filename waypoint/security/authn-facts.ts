/**
 * What request authentication (RequestAuthentication / JWT) established about a request, as the
 * L7 authorization stage reads it (Istio's request.auth.* attributes).
 */
export interface AuthnFacts {
  /** "<iss>/<sub>" (Istio's requestPrincipals form). */
  readonly principal?: string;
  /** The verified token's payload. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** The token's `aud` claim, always as a list. */
  readonly audiences?: readonly string[];
  /** The token's `azp` claim. */
  readonly presenter?: string;
}
