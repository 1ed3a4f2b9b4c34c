/**
 * Does one Authorization's l7_rules match one request? Istio's full rule semantics (from, to,
 * when) over L7Facts; the rule/policy skeleton is common/policy/rule-evaluation.ts, shared with
 * the agent's L4 evaluation.
 *
 * - A request without peer identity has no principal or namespace: principals, namespaces and
 *   "*" never match it; notPrincipals / notNamespaces never exclude it (ztunnel and Envoy agree).
 * - Without a verified JWT there is no request principal: requestPrincipals never match.
 * - A `from`/`to` entry with no field set fails closed (see failClosed), as on the agent.
 */
import { addressMatchers } from '../../common/policy/address-match';
import { Action, failClosed, policyMatcher, Predicate, ruleMatcher } from '../../common/policy/rule-evaluation';
import { field, fieldMatches, Matcher, stringMatchers } from '../../common/policy/string-match';
import type { Authorization__Output } from '../../common/proto/generated/ambit/v1/Authorization';
import type { Operation__Output } from '../../common/proto/generated/ambit/v1/Operation';
import type { Rule__Output } from '../../common/proto/generated/ambit/v1/Rule';
import type { Source__Output } from '../../common/proto/generated/ambit/v1/Source';
import type { StringMatch__Output } from '../../common/proto/generated/ambit/v1/StringMatch';
import { compileCondition } from './l7-conditions';
import type { L7Facts } from './l7-facts';
import { pathMatcher } from './path-match';

type P = Predicate<L7Facts>;

const nonEmpty = (l: readonly unknown[]): boolean => l.length > 0;
const portMatchers = (ports: readonly number[]): Matcher<number>[] => ports.map((p) => (v: number) => v === p);

/**
 * Hosts compare case-insensitively (RFC 4343; Istio CVE-2021-39155) against the authority both as
 * sent and without its port, so "example.com" matches "example.com:8080" while "example.com:8080"
 * still needs that port.
 */
function hostMatcher(m: StringMatch__Output): Matcher<L7Facts> {
  const s = stringMatchers([m], true)[0];
  return (f) => s(f.host) || s(f.hostNoPort);
}

function compileSource(s: Source__Output, action: Action): P {
  const all = [s.principals, s.notPrincipals, s.namespaces, s.notNamespaces, s.ipBlocks, s.notIpBlocks];
  const l7 = [s.remoteIpBlocks, s.notRemoteIpBlocks, s.requestPrincipals, s.notRequestPrincipals];
  if (![...all, ...l7].some(nonEmpty)) return failClosed(action);
  const principals = field(stringMatchers(s.principals), stringMatchers(s.notPrincipals));
  const namespaces = field(stringMatchers(s.namespaces), stringMatchers(s.notNamespaces));
  const ips = field(addressMatchers(s.ipBlocks), addressMatchers(s.notIpBlocks));
  const remote = field(addressMatchers(s.remoteIpBlocks), addressMatchers(s.notRemoteIpBlocks));
  const request = field(stringMatchers(s.requestPrincipals), stringMatchers(s.notRequestPrincipals));
  return (f) =>
    fieldMatches(principals, f.principal) &&
    fieldMatches(namespaces, f.namespace) &&
    fieldMatches(ips, f.source.key) &&
    fieldMatches(remote, f.remote.key) &&
    fieldMatches(request, f.auth?.principal);
}

function compileOperation(o: Operation__Output, action: Action): P {
  if (![o.ports, o.notPorts, o.hosts, o.notHosts, o.methods, o.notMethods, o.paths, o.notPaths].some(nonEmpty)) return failClosed(action);
  const ports = field(portMatchers(o.ports), portMatchers(o.notPorts));
  const hosts = field(o.hosts.map(hostMatcher), o.notHosts.map(hostMatcher));
  const methods = field(stringMatchers(o.methods), stringMatchers(o.notMethods));
  const paths = field(o.paths.map(pathMatcher), o.notPaths.map(pathMatcher));
  return (f) => fieldMatches(ports, f.port) && fieldMatches(hosts, f) && fieldMatches(methods, f.method) && fieldMatches(paths, f.path);
}

function compileRule(rule: Rule__Output, action: Action): P {
  return ruleMatcher(
    rule.from.map((s) => compileSource(s, action)),
    rule.to.map((o) => compileOperation(o, action)),
    rule.when.map((c) => compileCondition(c, action)),
  );
}

/** True when `policy` (its l7_rules) matches the request. Compiled once per policy object. */
export const l7PolicyMatches: (policy: Authorization__Output, facts: L7Facts) => boolean = policyMatcher((p) => p.l7Rules, compileRule);
