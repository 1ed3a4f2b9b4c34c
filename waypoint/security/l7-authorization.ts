/**
 * The waypoint's `authorize` stage: Istio AuthorizationPolicy over the full (L7) rules of the
 * policies attached to this waypoint or the requested Service (policiesForWaypoint).
 *
 *   DENY (any match -> 403) -> AUDIT (recorded) -> ALLOW (when any applies, one must match).
 *
 * dry-run policies (istio.io/dry-run) are evaluated and reported, never enforced; like Envoy's
 * shadow rules, a dry-run DENY "would deny" when it matches, and the dry-run ALLOW policies
 * "would deny" when none of them matches. Pure: no I/O, no clock.
 */
import { evaluate } from '../../common/policy/rule-evaluation';
import type { Authorization__Output } from '../../common/proto/generated/ambit/v1/Authorization';
import type { RequestFacts } from '../pipeline/request-facts';
import type { AuthnFacts } from './authn-facts';
import { l7Facts } from './l7-facts';
import { l7PolicyMatches } from './l7-rules';

export type { AuthnFacts } from './authn-facts';
export { policiesForWaypoint, requestAuthenticationsFor } from './target-refs';

export interface RequestDecision {
  readonly allowed: boolean;
  /** "<ns>/<name>" of the policy that decided (the matching DENY or ALLOW); absent otherwise. */
  readonly policy?: string;
  /** One line for logs and the access log. */
  readonly reason: string;
  /** AUDIT policies that matched. */
  readonly audit: string[];
  readonly dryRun: Array<{ policy: string; wouldDeny: boolean }>;
}

/** Istio's body for an RBAC denial (Envoy's rbac filter); status 403. */
export const DENIED_BODY = 'RBAC: access denied';

export function authorizeRequest(policies: readonly Authorization__Output[], req: RequestFacts, auth: AuthnFacts | undefined): RequestDecision {
  const facts = l7Facts(req, auth);
  const result = evaluate(policies, (p) => l7PolicyMatches(p, facts));
  const shadowAllow = result.dryRun.filter((d) => d.action === 'ALLOW');
  const noShadowAllowMatched = !shadowAllow.some((d) => d.matched);
  const dryRun = result.dryRun.map((d) => ({
    policy: d.policy,
    wouldDeny: d.action === 'DENY' ? d.matched : d.action === 'ALLOW' ? noShadowAllowMatched : false,
  }));
  return {
    allowed: result.allowed,
    ...(result.policy !== undefined ? { policy: result.policy } : {}),
    reason: result.reason,
    audit: result.audit,
    dryRun,
  };
}
