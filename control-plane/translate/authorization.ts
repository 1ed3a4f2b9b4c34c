/**
 * AuthorizationPolicy -> Authorization, with Istio's ambient semantics.
 *
 * A policy attached with targetRefs is enforced by the waypoint (all fields). Any other policy is
 * enforced by the destination's agent, which only sees L4. Istio fails closed when such a policy
 * uses L7 fields: an ALLOW policy becomes a DENY (the L7 conditions removed, so it denies what it
 * was meant to allow only under conditions nobody can check), and a DENY policy drops its L7
 * conditions (it denies more, never less). Both come with a warning on the policy.
 */
import type { Authorization } from '../../common/proto/generated/ambit/v1/Authorization';
import type { Condition } from '../../common/proto/generated/ambit/v1/Condition';
import type { Operation } from '../../common/proto/generated/ambit/v1/Operation';
import type { Rule } from '../../common/proto/generated/ambit/v1/Rule';
import type { Source } from '../../common/proto/generated/ambit/v1/Source';
import type { KubeObject } from '../kube/objects';
import { TranslateContext, Warn } from './context';
import { Annotations } from './labels';
import { attachedTargetRefs, policyScope, ScopedSpec } from './policy-scope';
import { toStringMatches } from './string-match';

interface SourceSpec {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}
interface OperationSpec {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}
interface RuleSpec {
  from?: Array<{ source?: SourceSpec }>;
  to?: Array<{ operation?: OperationSpec }>;
  when?: Array<{ key: string; values?: string[]; notValues?: string[] }>;
}
export interface AuthorizationPolicySpec extends ScopedSpec {
  action?: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  provider?: { name: string };
  rules?: RuleSpec[];
}
export type AuthorizationPolicy = KubeObject<AuthorizationPolicySpec>;

/** `when` keys an agent can evaluate (ztunnel's set). */
export const L4_CONDITION_KEYS: ReadonlySet<string> = new Set([
  'source.ip',
  'source.namespace',
  'source.principal',
  'destination.ip',
  'destination.port',
]);

const cidr = (v: string): { cidr: string } => ({ cidr: v.includes('/') ? v : v.includes(':') ? `${v}/128` : `${v}/32` });
const ports = (v: string[] | undefined): number[] => (v ?? []).map(Number);

function source(s: SourceSpec, l4Only: boolean): Source {
  return {
    principals: toStringMatches(s.principals),
    notPrincipals: toStringMatches(s.notPrincipals),
    namespaces: toStringMatches(s.namespaces),
    notNamespaces: toStringMatches(s.notNamespaces),
    ipBlocks: (s.ipBlocks ?? []).map(cidr),
    notIpBlocks: (s.notIpBlocks ?? []).map(cidr),
    remoteIpBlocks: l4Only ? [] : (s.remoteIpBlocks ?? []).map(cidr),
    notRemoteIpBlocks: l4Only ? [] : (s.notRemoteIpBlocks ?? []).map(cidr),
    requestPrincipals: l4Only ? [] : toStringMatches(s.requestPrincipals),
    notRequestPrincipals: l4Only ? [] : toStringMatches(s.notRequestPrincipals),
  };
}

function operation(o: OperationSpec, l4Only: boolean): Operation {
  const l7 = (v: string[] | undefined) => (l4Only ? [] : toStringMatches(v));
  return {
    ports: ports(o.ports),
    notPorts: ports(o.notPorts),
    hosts: l7(o.hosts),
    notHosts: l7(o.notHosts),
    methods: l7(o.methods),
    notMethods: l7(o.notMethods),
    paths: l7(o.paths),
    notPaths: l7(o.notPaths),
  };
}

function condition(c: { key: string; values?: string[]; notValues?: string[] }): Condition {
  return { key: c.key, values: toStringMatches(c.values), notValues: toStringMatches(c.notValues) };
}

const nonEmpty = (v: unknown[] | undefined): boolean => v !== undefined && v.length > 0;

/** The L7 fields a rule uses, as field paths relative to the rule (empty = pure L4). */
export function l7FieldsOf(rule: RuleSpec): string[] {
  const found: string[] = [];
  rule.from?.forEach((f, i) => {
    for (const k of ['requestPrincipals', 'notRequestPrincipals', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) {
      if (nonEmpty(f.source?.[k])) found.push(`from/${i}/source/${k}`);
    }
  });
  rule.to?.forEach((t, i) => {
    for (const k of ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const) {
      if (nonEmpty(t.operation?.[k])) found.push(`to/${i}/operation/${k}`);
    }
  });
  rule.when?.forEach((w, i) => {
    if (!L4_CONDITION_KEYS.has(w.key)) found.push(`when/${i}/key (${w.key})`);
  });
  return found;
}

function rule(r: RuleSpec, l4Only: boolean): Rule {
  return {
    from: (r.from ?? []).map((f) => source(f.source ?? {}, l4Only)),
    to: (r.to ?? []).map((t) => operation(t.operation ?? {}, l4Only)),
    when: (r.when ?? []).filter((w) => !l4Only || L4_CONDITION_KEYS.has(w.key)).map(condition),
  };
}

export function translateAuthorization(ctx: TranslateContext, ap: AuthorizationPolicy, warn: Warn): Authorization {
  const namespace = ap.metadata.namespace ?? 'default';
  const spec = ap.spec ?? {};
  const scope = policyScope(ctx.mesh, namespace, spec);
  const rules = spec.rules ?? [];
  const l7Fields = rules.flatMap((r, i) => l7FieldsOf(r).map((f) => `/spec/rules/${i}/${f}`));
  const hasL7 = l7Fields.length > 0;
  const warnings: string[] = [];
  const note = (message: string, field?: string): void => {
    warnings.push(message);
    warn(message, field);
  };

  let action: 'ALLOW' | 'DENY' | 'AUDIT' = spec.action === 'DENY' || spec.action === 'AUDIT' ? spec.action : 'ALLOW';
  if (spec.action === 'CUSTOM') {
    note('action CUSTOM (external authorization) is not supported; the policy is enforced as DENY so nothing it was meant to check gets through', '/spec/action');
    action = 'DENY';
  }
  if (scope !== 'TARGET_REFS' && hasL7) {
    const failClosed = action === 'ALLOW'
      ? 'it is enforced as DENY for the traffic its L4 fields match (fail closed)'
      : 'its L7 conditions are ignored, so it denies everything its L4 fields match (fail closed)';
    note(`uses L7 fields (${l7Fields.join(', ')}) but no waypoint enforces it (it has a selector, not targetRefs); ${failClosed}. Attach it to a waypoint with targetRefs to enforce it at L7`, l7Fields[0]);
    if (action === 'ALLOW') action = 'DENY';
  }
  return {
    name: ap.metadata.name,
    namespace,
    scope,
    action,
    selector: spec.selector?.matchLabels ?? {},
    targetRefs: attachedTargetRefs(ctx, spec, namespace, warn),
    l4Rules: rules.map((r) => rule(r, true)),
    l7Rules: rules.map((r) => rule(r, false)),
    hasL7,
    dryRun: ap.metadata.annotations?.[Annotations.DRY_RUN] === 'true',
    warnings,
    emptyRules: rules.length === 0,
  };
}
