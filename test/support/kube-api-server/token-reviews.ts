/**
 * authentication.k8s.io/v1 TokenReview as the API server answers it for bound service-account
 * tokens: the test registers a token with the user info (username, uid, groups, extra such as
 * authentication.kubernetes.io/pod-name and node-name) and the audiences it was issued for.
 */
import type { Obj } from './api-status';

export interface TokenUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export class TokenReviews {
  private readonly tokens = new Map<string, { user: TokenUser; audiences: string[] }>();

  register(token: string, user: TokenUser, audiences: string[]): void {
    this.tokens.set(token, { user, audiences });
  }

  revoke(token: string): void {
    this.tokens.delete(token);
  }

  review(body: Obj): Obj {
    const token = String(body?.spec?.token ?? '');
    const wanted: string[] = Array.isArray(body?.spec?.audiences) ? body.spec.audiences : [];
    const known = this.tokens.get(token);
    const base = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null }, spec: body?.spec ?? {} };
    if (known === undefined) return { ...base, status: { authenticated: false, error: 'invalid bearer token' } };
    const audiences = wanted.length === 0 ? known.audiences : wanted.filter((a) => known.audiences.includes(a));
    if (wanted.length > 0 && audiences.length === 0) {
      return { ...base, status: { authenticated: false, error: `token audiences ${JSON.stringify(known.audiences)} is invalid for the target audiences ${JSON.stringify(wanted)}` } };
    }
    return { ...base, status: { authenticated: true, user: known.user, audiences } };
  }
}
