/**
 * Does one Authorization match one connection? The L4 half of Istio's AuthorizationPolicy rule
 * semantics, as ztunnel applies them (src/rbac.rs); the rule/policy skeleton is shared with the
 * waypoint (common/policy/rule-evaluation.ts):
 *
 * - a policy matches when any rule matches; no rules (empty_rules) matches nothing;
 * - a rule matches when its `from` (any entry), `to` (any entry) and every `when` match; a rule
 *   with none of them matches everything (`rules: [{}]`);
 * - inside an entry, fields are ANDed, values of a field ORed, not* values exclude; a field with
 *   no values does not constrain;
 * - a connection with no peer identity has principal and namespace "" : principals, namespaces
 *   and presence ("*") never match it, notPrincipals / notNamespaces never exclude it.
 *
 * Where this differs from ztunnel, on purpose: what the agent cannot read fails closed.
 * - A `from` / `to` / `when` entry with no L4 value (the control plane strips L7 fields from
 *   l4_rules; Istio's validation refuses empty entries, ours may let `source: {}` through) matches
 *   everything in a DENY or AUDIT policy and nothing in an ALLOW policy. The DENY half is what
 *   control-plane/translate/authorization.ts relies on when it keeps a DENY's L4 part so that it
 *   "denies more, never less" (ztunnel skips empty matches, so upstream that DENY would match
 *   nothing); the ALLOW half keeps a dropped field (e.g. serviceAccounts, which the translator
 *   does not carry yet) from turning "allow these" into "allow everyone".
 * - L7 content that still reaches the agent (it should not) fails closed: in an ALLOW rule it
 *   makes the rule match nothing, in a DENY rule it is ignored (Istio's ambient conversion).
 * - remote_ip_blocks, if present, are checked against the source address: at L4 there is no
 *   X-Forwarded-For, the peer address is the remote address. (Today the control plane treats
 *   them as L7, like Istio, and never puts them in l4_rules.)
 */
import type { Authorization__Output } from '../../common/proto/generated/ambit/v1/Authorization';
import type { Condition__Output } from '../../common/proto/generated/ambit/v1/Condition';
import type { Operation__Output } from '../../common/proto/generated/ambit/v1/Operation';
import type { Rule__Output } from '../../common/proto/generated/ambit/v1/Rule';
import type { Source__Output } from '../../common/proto/generated/ambit/v1/Source';
import { addressMatchers, ipConditionMatcher, IpKey } from '../../common/policy/address-match';
import { Action, failClosed, policyMatcher, Predicate, ruleMatcher } from '../../common/policy/rule-evaluation';
import { field, fieldMatches, Matcher, stringMatchers } from '../../common/policy/string-match';

/** The connection as rules see it, parsed once per evaluation. */
export interface ConnectionFacts {
  /** "td/ns/<ns>/sa/<sa>", or undefined for plaintext. */
  readonly principal: string | undefined;
  readonly namespace: string | undefined;
  readonly source: IpKey | undefined;
  readonly sourceText: string;
  readonly destination: IpKey | undefined;
  readonly destinationText: string;
  readonly port: number;
}

type ConnPredicate = Predicate<ConnectionFacts>;

/** `when` keys an agent evaluates (Istio's l4WhenAttributes). */
const L4_KEYS = new Set(['source.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port']);

const portMatchers = (ports: readonly number[]): Matcher<number>[] => ports.map((p) => (v: number) => v === p);
const nonEmpty = (l: readonly unknown[] | undefined): boolean => l !== undefined && l.length > 0;

function hasL7Source(s: Source__Output): boolean {
  return nonEmpty(s.requestPrincipals) || nonEmpty(s.notRequestPrincipals);
}

function hasL7Operation(o: Operation__Output): boolean {
  return [o.hosts, o.notHosts, o.methods, o.notMethods, o.paths, o.notPaths].some(nonEmpty);
}

const isEmptySource = (s: Source__Output): boolean =>
  ![s.principals, s.notPrincipals, s.namespaces, s.notNamespaces, s.ipBlocks, s.notIpBlocks, s.remoteIpBlocks, s.notRemoteIpBlocks].some(nonEmpty);

function compileSource(s: Source__Output, action: Action): ConnPredicate {
  if (isEmptySource(s)) return failClosed(action);
  const principals = field(stringMatchers(s.principals), stringMatchers(s.notPrincipals));
  const namespaces = field(stringMatchers(s.namespaces), stringMatchers(s.notNamespaces));
  const ips = field(addressMatchers(s.ipBlocks), addressMatchers(s.notIpBlocks));
  const remote = field(addressMatchers(s.remoteIpBlocks ?? []), addressMatchers(s.notRemoteIpBlocks ?? []));
  return (f) =>
    fieldMatches(principals, f.principal) && fieldMatches(namespaces, f.namespace) && fieldMatches(ips, f.source) && fieldMatches(remote, f.source);
}

function compileOperation(o: Operation__Output, action: Action): ConnPredicate {
  if (!nonEmpty(o.ports) && !nonEmpty(o.notPorts)) return failClosed(action);
  const ports = field(portMatchers(o.ports), portMatchers(o.notPorts));
  return (f) => fieldMatches(ports, f.port);
}

function compileCondition(c: Condition__Output, action: Action): ConnPredicate {
  if (!nonEmpty(c.values) && !nonEmpty(c.notValues)) return failClosed(action);
  switch (c.key) {
    case 'source.ip':
    case 'destination.ip': {
      const ip = field(c.values.map(ipConditionMatcher), c.notValues.map(ipConditionMatcher));
      return c.key === 'source.ip'
        ? (f) => fieldMatches(ip, { key: f.source, text: f.sourceText })
        : (f) => fieldMatches(ip, { key: f.destination, text: f.destinationText });
    }
    case 'source.namespace': {
      const ns = field(stringMatchers(c.values), stringMatchers(c.notValues));
      return (f) => fieldMatches(ns, f.namespace);
    }
    case 'source.principal': {
      const p = field(stringMatchers(c.values), stringMatchers(c.notValues));
      return (f) => fieldMatches(p, f.principal);
    }
    case 'destination.port': {
      const port = field(stringMatchers(c.values), stringMatchers(c.notValues));
      return (f) => fieldMatches(port, String(f.port));
    }
    default:
      return () => true; // unreachable: L7 keys are handled by compileRule
  }
}

function compileRule(rule: Rule__Output, action: Action): ConnPredicate {
  const l7 = rule.from.some(hasL7Source) || rule.to.some(hasL7Operation) || rule.when.some((w) => !L4_KEYS.has(w.key));
  if (l7 && action === 'ALLOW') return () => false;
  return ruleMatcher(
    rule.from.map((s) => compileSource(s, action)),
    rule.to.map((o) => compileOperation(o, action)),
    rule.when.filter((w) => L4_KEYS.has(w.key)).map((c) => compileCondition(c, action)),
  );
}

/** True when `policy` matches the connection. Compiled on first use and cached per policy object. */
export const policyMatches: (policy: Authorization__Output, facts: ConnectionFacts) => boolean = policyMatcher((p) => p.l4Rules, compileRule);
