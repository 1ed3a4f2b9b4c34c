/**
 * L4 authorization of one inbound connection, with Istio's AuthorizationPolicy semantics
 * (istio.io docs/concepts/security/#authorization-policy, ztunnel's assert_rbac):
 *
 *   1. any enforced DENY policy matches           -> deny
 *   2. no enforced ALLOW policy applies           -> allow
 *   3. any enforced ALLOW policy matches          -> allow
 *   4. otherwise                                  -> deny
 *
 * AUDIT policies never change the decision; the ones that match are reported so the access log
 * can flag the connection. Dry-run policies (istio.io/dry-run) are evaluated and reported, never
 * enforced. An ALLOW policy with no rules still applies, so it denies everything it selects
 * (Istio's "allow-nothing"); `rules: [{}]` allows everything. Only l4_rules are read: the control
 * plane already folded L7 fields into their fail-closed L4 form.
 *
 * Pure: no I/O, no clock. Rule matching lives in authorization-rules.ts; the decision steps are
 * shared with the waypoint (common/policy/rule-evaluation.ts).
 */
import type { Authorization__Output } from '../../common/proto/generated/ambit/v1/Authorization';
import type { Workload__Output } from '../../common/proto/generated/ambit/v1/Workload';
import { ipKey } from '../../common/policy/address-match';
import { DecidingStep, evaluate, policyKey, PolicyResult } from '../../common/policy/rule-evaluation';
import { ConnectionFacts, policyMatches } from './authorization-rules';

export { policyKey };
export type { DecidingStep, PolicyResult };

export interface L4Connection {
  /**
   * The peer's identity from its mTLS certificate, in Istio's principal form
   * "<trust-domain>/ns/<ns>/sa/<sa>" (a leading "spiffe://" is tolerated). Absent for plaintext.
   */
  readonly sourcePrincipal?: string;
  /** The peer's namespace; taken from sourcePrincipal when absent. Ignored without a principal. */
  readonly sourceNamespace?: string;
  readonly sourceIp: string;
  readonly destinationIp: string;
  readonly destinationPort: number;
}

export interface AuthorizationDecision {
  readonly allowed: boolean;
  readonly action: DecidingStep;
  /** The policy that decided: the matching DENY or ALLOW policy; undefined for steps 2 and 4. */
  readonly policy: string | undefined;
  /** One line for logs and access-log `reason`. */
  readonly reason: string;
  /** AUDIT policies that matched. */
  readonly audit: readonly string[];
  /** Every applicable dry-run policy and whether it matched. */
  readonly dryRun: readonly PolicyResult[];
  /** The decision if the dry-run policies were enforced too (equal to `allowed` when there are none). */
  readonly dryRunAllowed: boolean;
}

const SPIFFE = 'spiffe://';

function factsOf(conn: L4Connection): ConnectionFacts {
  let principal = conn.sourcePrincipal === '' ? undefined : conn.sourcePrincipal;
  if (principal?.startsWith(SPIFFE)) principal = principal.slice(SPIFFE.length);
  // Istio's source.namespace is the namespace of the peer certificate: plaintext has none.
  let namespace: string | undefined;
  if (principal !== undefined) {
    const parts = principal.split('/');
    namespace = conn.sourceNamespace ?? (parts.length === 5 && parts[1] === 'ns' ? parts[2] : undefined);
  }
  return {
    principal,
    namespace,
    source: ipKey(conn.sourceIp),
    sourceText: conn.sourceIp,
    destination: ipKey(conn.destinationIp),
    destinationText: conn.destinationIp,
    port: conn.destinationPort,
  };
}

/**
 * Decides `conn` against the policies that apply to its destination workload (policiesFor). The
 * reported policy is the first deciding one in the order given; policiesFor sorts by name.
 */
export function authorize(conn: L4Connection, policies: readonly Authorization__Output[]): AuthorizationDecision {
  const facts = factsOf(conn);
  return evaluate(policies, (p) => policyMatches(p, facts));
}

/**
 * The Authorizations that apply to `workload`, sorted by "<namespace>/<name>":
 * mesh-wide ones (scope GLOBAL: root namespace, no selector), its namespace's selector-less ones,
 * and the selector-scoped ones the control plane resolved into workload.authorizationPolicies
 * ("<namespace>/<name>", see control-plane/model/translator.ts selectedPoliciesFor). TARGET_REFS
 * policies belong to waypoints and never apply here. Keys of `all` are not read; the policies'
 * own namespace and name are.
 */
export function policiesFor(
  workload: Pick<Workload__Output, 'namespace' | 'authorizationPolicies'>,
  all: ReadonlyMap<string, Authorization__Output> | Iterable<Authorization__Output>,
): Authorization__Output[] {
  const selected = new Set(workload.authorizationPolicies);
  const out: Authorization__Output[] = [];
  const isMap = (a: typeof all): a is ReadonlyMap<string, Authorization__Output> => typeof (a as ReadonlyMap<string, unknown>).get === 'function';
  for (const p of isMap(all) ? all.values() : all) {
    const applies =
      p.scope === 'GLOBAL' ||
      (p.scope === 'NAMESPACE' && p.namespace === workload.namespace) ||
      (p.scope === 'WORKLOAD_SELECTOR' && selected.has(policyKey(p)));
    if (applies) out.push(p);
  }
  return out.sort((a, b) => (policyKey(a) < policyKey(b) ? -1 : policyKey(a) > policyKey(b) ? 1 : 0));
}
