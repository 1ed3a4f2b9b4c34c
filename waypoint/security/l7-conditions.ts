/**
 * `when` conditions a waypoint evaluates (Istio's "Authorization Policy Conditions" table). Keys
 * the waypoint does not know fail closed like Istio's builder: the condition never holds in an
 * ALLOW policy and always holds in a DENY/AUDIT policy. A condition with neither values nor
 * notValues fails closed the same way (Istio's validation would have refused it).
 */
import { ipConditionMatcher, IpValue } from '../../common/policy/address-match';
import { Action, failClosed, Predicate } from '../../common/policy/rule-evaluation';
import { anyOf, field, fieldMatches, stringMatchers } from '../../common/policy/string-match';
import type { Condition__Output } from '../../common/proto/generated/ambit/v1/Condition';
import type { L7Facts } from './l7-facts';

type P = Predicate<L7Facts>;

const HEADER_KEY = /^request\.headers\[([^\[\]]+)\]$/;
const CLAIM_KEY = /^request\.auth\.claims((?:\[[^\[\]]+\])+)$/;

/** Several values of one header are compared joined by ",", as Envoy presents them to RBAC. */
function headerText(f: L7Facts, name: string): string | undefined {
  const v = f.req.headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : String(v);
}

/**
 * The values of a (possibly nested) claim: a string claim is one value, a list claim each of its
 * scalar elements (Istio: "a claim that is a list matches if any element matches"); numbers and
 * booleans compare by their text; objects and absent claims have no value.
 */
export function claimValues(claims: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): string[] {
  let v: unknown = claims;
  for (const name of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return [];
    v = (v as Record<string, unknown>)[name];
  }
  const scalar = (x: unknown): string | undefined =>
    typeof x === 'string' ? x : typeof x === 'number' || typeof x === 'boolean' ? String(x) : undefined;
  const list = Array.isArray(v) ? v : [v];
  return list.map(scalar).filter((x): x is string => x !== undefined);
}

const text = (c: Condition__Output, get: (f: L7Facts) => string | undefined): P => {
  const m = field(stringMatchers(c.values), stringMatchers(c.notValues));
  return (f) => fieldMatches(m, get(f));
};

const list = (c: Condition__Output, get: (f: L7Facts) => readonly string[]): P => {
  const m = field<readonly string[]>(stringMatchers(c.values).map(anyOf), stringMatchers(c.notValues).map(anyOf));
  return (f) => fieldMatches(m, get(f));
};

const ip = (c: Condition__Output, get: (f: L7Facts) => IpValue): P => {
  const m = field<IpValue>(c.values.map(ipConditionMatcher), c.notValues.map(ipConditionMatcher));
  return (f) => fieldMatches(m, get(f));
};

export function compileCondition(c: Condition__Output, action: Action): P {
  if (c.values.length === 0 && c.notValues.length === 0) return failClosed(action);
  switch (c.key) {
    case 'source.ip':
      return ip(c, (f) => f.source);
    case 'remote.ip':
      return ip(c, (f) => f.remote);
    case 'destination.ip':
      return ip(c, (f) => f.destination);
    case 'source.namespace':
      return text(c, (f) => f.namespace);
    case 'source.principal':
      return text(c, (f) => f.principal);
    case 'destination.port':
      return text(c, (f) => String(f.port));
    case 'connection.sni':
      // The waypoint sees plaintext HTTP inside the HBONE tunnel: there is no inner SNI.
      return text(c, () => undefined);
    case 'request.auth.principal':
      return text(c, (f) => f.auth?.principal);
    case 'request.auth.presenter':
      return text(c, (f) => f.auth?.presenter);
    case 'request.auth.audiences':
      return list(c, (f) => f.auth?.audiences ?? []);
  }
  const header = HEADER_KEY.exec(c.key);
  if (header !== null) {
    const name = header[1].trim().toLowerCase();
    return text(c, (f) => headerText(f, name));
  }
  const claim = CLAIM_KEY.exec(c.key);
  if (claim !== null) {
    const path = claim[1].slice(1, -1).split('][');
    return list(c, (f) => claimValues(f.auth?.claims, path));
  }
  return failClosed(action);
}

