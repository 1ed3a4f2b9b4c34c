/**
 * Istio rules its CRDs express in CEL or istiod checks in code (pkg/config/validation): exclusive
 * selector/targetRef, CUSTOM needs a provider, known condition keys, one hash key per consistent
 * hash, unique subset names.
 */
import { IssueList, durationMs, isObj, isSet, listAt, objAt, strAt, type Obj } from './check-helpers';
import { childPointer } from './field-path';
import { isCidr, isIpAddress } from './formats';

const PLAIN_KEYS = new Set([
  'source.ip',
  'remote.ip',
  'source.namespace',
  'source.principal',
  'source.serviceAccount',
  'request.auth.principal',
  'request.auth.audiences',
  'request.auth.presenter',
  'destination.ip',
  'destination.port',
  'connection.sni',
]);
const BRACKET_KEY = /^(request\.headers|request\.auth\.claims)\[[^\][]+\](\[[^\][]+\])*$/;

function knownConditionKey(key: string): boolean {
  if (PLAIN_KEYS.has(key) || key.startsWith('experimental.envoy.filters.')) return true;
  const m = BRACKET_KEY.exec(key);
  // Only claims may nest (request.auth.claims[a][b]); headers take one name.
  return m !== null && (m[1] === 'request.auth.claims' || m[2] === undefined);
}

function checkTargets(issues: IssueList, spec: Obj): void {
  issues.exclusive('/spec', spec, ['targetRef', 'targetRefs']);
  const refs = new Map<string, unknown>([['/spec/targetRef', spec.targetRef]]);
  listAt(spec, 'targetRefs').forEach((ref, i) => refs.set(`/spec/targetRefs/${i}`, ref));
  for (const [at, ref] of refs) {
    // Istio's CRD rejects these too (CEL): a policy attaches only within its own namespace.
    if (strAt(ref, 'namespace')) issues.add(`${at}/namespace`, 'cross-namespace references are not supported; leave namespace empty');
  }
  if (isSet(spec, 'selector') && (isSet(spec, 'targetRef') || isSet(spec, 'targetRefs'))) {
    issues.add('/spec/selector', 'only one of selector or targetRef/targetRefs may be set');
  }
}

function checkCondition(issues: IssueList, path: string, cond: unknown): void {
  const key = strAt(cond, 'key');
  if (key === undefined) return;
  if (!knownConditionKey(key)) {
    issues.add(`${path}/key`, `unknown condition key "${key}"; use one of ${[...PLAIN_KEYS].join(', ')}, request.headers[<name>], request.auth.claims[<claim>]`);
    return;
  }
  if (listAt(cond, 'values').length === 0 && listAt(cond, 'notValues').length === 0) {
    issues.add(path, `condition "${key}" needs values or notValues`);
  }
  for (const field of ['values', 'notValues']) {
    listAt(cond, field).forEach((v, i) => {
      const at = `${path}/${field}/${i}`;
      if (typeof v !== 'string') return;
      if ((key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') && !isIpAddress(v) && !isCidr(v)) {
        issues.add(at, `must be an IP address or CIDR block for ${key}; got "${v}"`);
      }
      if (key === 'destination.port' && !/^[0-9]+$/.test(v)) issues.add(at, `must be a port number for destination.port; got "${v}"`);
    });
  }
}

export function checkAuthorizationPolicy(doc: Obj, issues: IssueList): void {
  const spec = objAt(doc, 'spec');
  if (spec === undefined) return;
  checkTargets(issues, spec);
  const action = strAt(spec, 'action') ?? 'ALLOW';
  if (action === 'CUSTOM' && !strAt(objAt(spec, 'provider'), 'name')) {
    issues.add('/spec/provider', 'a provider name is required when action is CUSTOM');
  }
  if (action !== 'CUSTOM' && isSet(spec, 'provider')) issues.add('/spec/provider', `only allowed when action is CUSTOM; action is ${action}`);
  listAt(spec, 'rules').forEach((rule, r) => {
    listAt(rule, 'from').forEach((from, f) => {
      const source = objAt(from, 'source');
      if (source !== undefined && (isSet(source, 'serviceAccounts') || isSet(source, 'notServiceAccounts'))) {
        for (const other of ['principals', 'notPrincipals', 'namespaces', 'notNamespaces']) {
          if (isSet(source, other)) issues.add(`/spec/rules/${r}/from/${f}/source/${other}`, 'may not be combined with serviceAccounts/notServiceAccounts');
        }
      }
    });
    listAt(rule, 'when').forEach((cond, w) => checkCondition(issues, `/spec/rules/${r}/when/${w}`, cond));
  });
}

export function checkPeerAuthentication(doc: Obj, issues: IssueList): void {
  const spec = objAt(doc, 'spec');
  if (spec !== undefined && isSet(spec, 'portLevelMtls') && !isSet(spec, 'selector')) {
    issues.add('/spec/portLevelMtls', 'needs a selector: port-level mTLS applies to selected workloads only');
  }
}

export function checkRequestAuthentication(doc: Obj, issues: IssueList): void {
  const spec = objAt(doc, 'spec');
  if (spec === undefined) return;
  checkTargets(issues, spec);
  listAt(spec, 'jwtRules').forEach((rule, i) => issues.exclusive(`/spec/jwtRules/${i}`, rule, ['jwksUri', 'jwks']));
}

const HASH_KEYS = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'] as const;

function checkLoadBalancer(issues: IssueList, path: string, lb: Obj | undefined): void {
  if (lb === undefined) return;
  issues.exclusive(path, lb, ['simple', 'consistentHash']);
  const ch = objAt(lb, 'consistentHash');
  if (ch === undefined) return;
  const at = childPointer(path, 'consistentHash');
  const keys = HASH_KEYS.filter((k) => (k === 'useSourceIp' ? ch[k] === true : isSet(ch, k)));
  if (keys.length !== 1) issues.add(at, `needs exactly one hash key of ${HASH_KEYS.join(', ')}; got ${keys.length === 0 ? 'none' : keys.join(', ')}`);
  issues.exclusive(at, ch, ['ringHash', 'maglev']);
  issues.exclusive(at, ch, ['minimumRingSize', 'maglev'], ' (minimumRingSize configures a ring hash)');
}

function checkTrafficPolicy(issues: IssueList, path: string, tp: Obj | undefined): void {
  if (tp === undefined) return;
  checkLoadBalancer(issues, childPointer(path, 'loadBalancer'), objAt(tp, 'loadBalancer'));
  const levels = listAt(tp, 'portLevelSettings');
  const portsAt = childPointer(path, 'portLevelSettings');
  issues.duplicates(portsAt, levels, (s) => (isObj(objAt(s, 'port')) ? String(objAt(s, 'port')?.number) : undefined), 'port', 'port');
  levels.forEach((s, i) => checkLoadBalancer(issues, `${portsAt}/${i}/loadBalancer`, objAt(s, 'loadBalancer')));
}

export function checkDestinationRule(doc: Obj, issues: IssueList): void {
  const spec = objAt(doc, 'spec');
  if (spec === undefined) return;
  checkTrafficPolicy(issues, '/spec/trafficPolicy', objAt(spec, 'trafficPolicy'));
  const subsets = listAt(spec, 'subsets');
  issues.duplicates('/spec/subsets', subsets, (s) => strAt(s, 'name'), 'subset name', 'name');
  subsets.forEach((s, i) => checkTrafficPolicy(issues, `/spec/subsets/${i}/trafficPolicy`, objAt(s, 'trafficPolicy')));
}

export function checkFaultInjection(doc: Obj, issues: IssueList): void {
  const spec = objAt(doc, 'spec');
  if (spec === undefined) return;
  if (!isSet(spec, 'delay') && !isSet(spec, 'abort')) issues.add('/spec', 'needs at least one of delay or abort');
  const delay = durationMs(strAt(objAt(spec, 'delay'), 'fixedDelay'));
  if (delay !== undefined && delay < 1) issues.add('/spec/delay/fixedDelay', 'must be at least 1ms');
  const abort = objAt(spec, 'abort');
  if (abort !== undefined) {
    const set = ['httpStatus', 'grpcStatus'].filter((f) => isSet(abort, f));
    if (set.length !== 1) issues.add('/spec/abort', 'needs exactly one of httpStatus or grpcStatus');
  }
}

/** The interval travels as uint32 milliseconds (LocalRateLimit.fill_interval_ms). */
export function checkLocalRateLimit(doc: Obj, issues: IssueList): void {
  const interval = durationMs(strAt(objAt(doc, 'spec'), 'fillInterval'));
  if (interval === undefined) return;
  if (interval < 1) issues.add('/spec/fillInterval', 'must be at least 1ms');
  // Tolerance: decimal seconds are not exact in binary (1.1 * 1000 = 1100.0000000000002).
  else if (Math.abs(interval - Math.round(interval)) > 1e-6) issues.add('/spec/fillInterval', `must be a whole number of milliseconds; got ${interval}ms`);
  else if (interval > 0xffffffff) issues.add('/spec/fillInterval', 'must be at most 4294967295ms (about 49 days)');
}
