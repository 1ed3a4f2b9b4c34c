/**
 * The skeleton of Istio's AuthorizationPolicy evaluation, shared by the agent (l4_rules, per
 * connection) and the waypoint (l7_rules, per request). What a field means is the caller's: it
 * compiles each rule into a predicate over its own facts; this module combines them.
 *
 * - a policy matches when any rule matches; no rules (empty_rules) matches nothing;
 * - a rule matches when its `from` (any entry), `to` (any entry) and every `when` match; a rule
 *   with none of them matches everything (`rules: [{}]`);
 * - decision (istio.io docs/concepts/security/#authorization-policy, ztunnel's assert_rbac):
 *   1. any enforced DENY policy matches -> deny; 2. no enforced ALLOW policy applies -> allow;
 *   3. any enforced ALLOW policy matches -> allow; 4. otherwise deny.
 *   AUDIT never changes the decision; dry-run (istio.io/dry-run) policies are evaluated, reported,
 *   never enforced.
 */
import type { Authorization__Output } from '../proto/generated/ambit/v1/Authorization';
import type { AuthorizationAction__Output } from '../proto/generated/ambit/v1/AuthorizationAction';
import type { Rule__Output } from '../proto/generated/ambit/v1/Rule';

export type Predicate<F> = (facts: F) => boolean;
export type Action = AuthorizationAction__Output;

export const policyKey = (p: Pick<Authorization__Output, 'namespace' | 'name'>): string => `${p.namespace}/${p.name}`;

/**
 * What an entry that cannot be evaluated (nothing the enforcer can read, or an unknown key) means:
 * fail closed, i.e. it matches everything in a DENY or AUDIT policy (deny more, never less) and
 * nothing in an ALLOW policy (never turn "allow these" into "allow everyone").
 */
export const failClosed = <F>(action: Action): Predicate<F> => (action === 'ALLOW' ? () => false : () => true);

/** from: any entry; to: any entry; when: every entry. Empty lists do not constrain. */
export function ruleMatcher<F>(from: Predicate<F>[], to: Predicate<F>[], when: Predicate<F>[]): Predicate<F> {
  return (f) => (from.length === 0 || from.some((p) => p(f))) && (to.length === 0 || to.some((p) => p(f))) && when.every((p) => p(f));
}

/**
 * A `(policy, facts) => matched` function over the rules `rulesOf` picks, compiling each policy
 * on first use and caching it per policy object (config updates bring new objects).
 */
export function policyMatcher<F>(
  rulesOf: (p: Authorization__Output) => readonly Rule__Output[],
  compileRule: (rule: Rule__Output, action: Action) => Predicate<F>,
): (policy: Authorization__Output, facts: F) => boolean {
  const compiled = new WeakMap<Authorization__Output, Predicate<F>>();
  return (policy, facts) => {
    let match = compiled.get(policy);
    if (match === undefined) {
      const rules = policy.emptyRules ? [] : rulesOf(policy).map((r) => compileRule(r, policy.action));
      match = (f) => rules.some((r) => r(f));
      compiled.set(policy, match);
    }
    return match(facts);
  };
}

/** Which step decided: a DENY policy, the ALLOW list, or neither (no ALLOW policy applies). */
export type DecidingStep = 'DENY' | 'ALLOW' | 'NONE';

export interface Verdict {
  readonly allowed: boolean;
  readonly action: DecidingStep;
  /** The matching DENY or ALLOW policy; undefined for steps 2 and 4. */
  readonly policy: string | undefined;
  readonly reason: string;
}

/** Steps 1-4 over `policies` (DENY and ALLOW only; AUDIT is ignored here). */
export function decide(policies: readonly Authorization__Output[], matches: (p: Authorization__Output) => boolean): Verdict {
  const denying = policies.find((p) => p.action === 'DENY' && matches(p));
  if (denying !== undefined) {
    return { allowed: false, action: 'DENY', policy: policyKey(denying), reason: `denied by DENY policy ${policyKey(denying)}` };
  }
  const allowList = policies.filter((p) => p.action === 'ALLOW');
  if (allowList.length === 0) return { allowed: true, action: 'NONE', policy: undefined, reason: 'allowed: no ALLOW policy applies' };
  const allowing = allowList.find((p) => matches(p));
  if (allowing !== undefined) {
    return { allowed: true, action: 'ALLOW', policy: policyKey(allowing), reason: `allowed by ALLOW policy ${policyKey(allowing)}` };
  }
  return {
    allowed: false,
    action: 'ALLOW',
    policy: undefined,
    reason: `denied: no ALLOW policy matched (applicable: ${allowList.map(policyKey).join(', ')})`,
  };
}

export interface PolicyResult {
  /** "<namespace>/<name>". */
  readonly policy: string;
  readonly action: Action;
  readonly matched: boolean;
}

export interface Evaluation extends Verdict {
  /** AUDIT policies (enforced) that matched. */
  readonly audit: string[];
  /** Every dry-run policy and whether it matched. */
  readonly dryRun: PolicyResult[];
  /** The decision if the dry-run policies were enforced too (equal to `allowed` when there are none). */
  readonly dryRunAllowed: boolean;
}

/** Decides, collects AUDIT matches and dry-run results; each policy is matched at most once. */
export function evaluate(policies: readonly Authorization__Output[], matches: (p: Authorization__Output) => boolean): Evaluation {
  const seen = new Map<Authorization__Output, boolean>();
  const once = (p: Authorization__Output): boolean => {
    let m = seen.get(p);
    if (m === undefined) seen.set(p, (m = matches(p)));
    return m;
  };
  const enforced = policies.filter((p) => !p.dryRun);
  const verdict = decide(enforced, once);
  const audit = enforced.filter((p) => p.action === 'AUDIT' && once(p)).map(policyKey);
  const shadow = policies.filter((p) => p.dryRun);
  const dryRun = shadow.map((p) => ({ policy: policyKey(p), action: p.action, matched: once(p) }));
  const dryRunAllowed = shadow.length === 0 ? verdict.allowed : decide(policies, once).allowed;
  return { ...verdict, audit, dryRun, dryRunAllowed };
}
