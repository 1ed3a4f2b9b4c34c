/**
 * Gateway API rules its CRDs express in CEL (x-kubernetes-validations): a filter's type names the
 * one field it sets, path match values are absolute, redirects exclude backends, listener
 * protocol/TLS/hostname combinations, unique rule and listener names.
 */
import { IssueList, durationMs, isObj, isSet, listAt, objAt, strAt, type Obj } from './check-helpers';

const FILTER_FIELD: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  RequestMirror: 'requestMirror',
  ExtensionRef: 'extensionRef',
};

function checkFilter(issues: IssueList, path: string, filter: unknown): void {
  const type = strAt(filter, 'type');
  if (type === undefined || !isObj(filter)) return;
  const want = FILTER_FIELD[type];
  if (want !== undefined && !isSet(filter, want)) issues.add(`${path}/${want}`, `required when type is ${type}`);
  for (const field of Object.values(FILTER_FIELD)) {
    if (field !== want && isSet(filter, field)) issues.add(`${path}/${field}`, `must not be set when type is ${type}`);
  }
  const mirror = objAt(filter, 'requestMirror');
  if (mirror !== undefined) {
    issues.exclusive(`${path}/requestMirror`, mirror, ['percent', 'fraction']);
    const fraction = objAt(mirror, 'fraction');
    const num = fraction?.numerator;
    const den = fraction?.denominator ?? 100;
    if (typeof num === 'number' && typeof den === 'number' && num > den) {
      issues.add(`${path}/requestMirror/fraction/numerator`, `must not exceed the denominator (${den}); got ${num}`);
    }
  }
  for (const holder of ['requestRedirect', 'urlRewrite']) {
    const mod = objAt(objAt(filter, holder), 'path');
    const t = strAt(mod, 'type');
    if (mod === undefined || t === undefined) continue;
    const need = t === 'ReplaceFullPath' ? 'replaceFullPath' : 'replacePrefixMatch';
    const other = t === 'ReplaceFullPath' ? 'replacePrefixMatch' : 'replaceFullPath';
    if (!isSet(mod, need)) issues.add(`${path}/${holder}/path/${need}`, `required when type is ${t}`);
    if (isSet(mod, other)) issues.add(`${path}/${holder}/path/${other}`, `must not be set when type is ${t}`);
  }
}

/** Filters of one rule (or one backendRef): each checked, plus the per-list combination rules. */
function checkFilterList(issues: IssueList, path: string, filters: unknown[]): void {
  filters.forEach((f, i) => checkFilter(issues, `${path}/${i}`, f));
  const types = filters.map((f) => strAt(f, 'type'));
  for (const once of ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite']) {
    const at = types.indexOf(once);
    const again = types.indexOf(once, at + 1);
    if (at >= 0 && again >= 0) issues.add(`${path}/${again}/type`, `${once} may be used at most once per rule`);
  }
  if (types.includes('RequestRedirect') && types.includes('URLRewrite')) {
    issues.add(`${path}/${types.indexOf('URLRewrite')}/type`, 'RequestRedirect and URLRewrite may not be used together');
  }
}

// Exact and PathPrefix values must be normalized absolute paths (the upstream CEL rules).
function pathValueProblem(value: string): string | undefined {
  if (!value.startsWith('/')) return 'must be an absolute path starting with "/"';
  if (/\/\/|\/\.\/|\/\.\.\/|%2f|%2F|#/.test(value)) return 'must not contain "//", "/./", "/../", "%2f", "%2F" or "#"';
  if (value.endsWith('/..') || value.endsWith('/.')) return 'must not end with "/.." or "/."';
  return undefined;
}

function checkParentRefs(issues: IssueList, spec: Obj): void {
  issues.duplicates('/spec/parentRefs', listAt(spec, 'parentRefs'), (p) =>
    isObj(p) ? JSON.stringify([p.group ?? 'gateway.networking.k8s.io', p.kind ?? 'Gateway', p.namespace ?? '', p.name, p.sectionName ?? '', p.port ?? 0]) : undefined,
    'parentRef',
  );
}

/**
 * What HTTPRoute and GRPCRoute share: unique parentRefs and rule names, and filters checked on each
 * rule and on each of its backendRefs; `checkRule` adds the kind's own rule checks.
 */
function checkRoute(doc: Obj, issues: IssueList, checkRule: (rule: unknown, base: string) => void): void {
  const spec = objAt(doc, 'spec');
  if (spec === undefined) return;
  checkParentRefs(issues, spec);
  const rules = listAt(spec, 'rules');
  issues.duplicates('/spec/rules', rules, (r) => strAt(r, 'name'), 'rule name', 'name');
  rules.forEach((rule, r) => {
    const base = `/spec/rules/${r}`;
    checkFilterList(issues, `${base}/filters`, listAt(rule, 'filters'));
    listAt(rule, 'backendRefs').forEach((b, i) => checkFilterList(issues, `${base}/backendRefs/${i}/filters`, listAt(b, 'filters')));
    checkRule(rule, base);
  });
}

export function checkHTTPRoute(doc: Obj, issues: IssueList): void {
  checkRoute(doc, issues, (rule, base) => {
    const matches = listAt(rule, 'matches');
    matches.forEach((m, i) => {
      const path = objAt(m, 'path');
      const type = strAt(path, 'type') ?? 'PathPrefix';
      const value = strAt(path, 'value');
      const problem = value !== undefined && type !== 'RegularExpression' ? pathValueProblem(value) : undefined;
      if (problem !== undefined) issues.add(`${base}/matches/${i}/path/value`, `${problem} for type ${type}; got "${value}"`);
    });
    const filters = listAt(rule, 'filters');
    const types = filters.map((f) => strAt(f, 'type'));
    if (types.includes('RequestRedirect') && listAt(rule, 'backendRefs').length > 0) {
      issues.add(`${base}/backendRefs`, 'must be empty when the rule has a RequestRedirect filter (the redirect is the response)');
    }
    const prefixRewrite = filters.some((f) => strAt(objAt(objAt(f, 'urlRewrite') ?? objAt(f, 'requestRedirect'), 'path'), 'type') === 'ReplacePrefixMatch');
    const prefixMatches = matches.filter((m) => (strAt(objAt(m, 'path'), 'type') ?? 'PathPrefix') === 'PathPrefix').length;
    if (prefixRewrite && matches.length > 0 && (prefixMatches !== 1 || matches.length !== 1)) {
      issues.add(`${base}/matches`, 'ReplacePrefixMatch needs exactly one match, of path type PathPrefix');
    }
    const timeouts = objAt(rule, 'timeouts');
    const request = durationMs(timeouts?.request);
    const backend = durationMs(timeouts?.backendRequest);
    if (request !== undefined && backend !== undefined && request !== 0 && backend > request) {
      issues.add(`${base}/timeouts/backendRequest`, `must not be longer than timeouts.request (${String(timeouts?.request)})`);
    }
  });
}

const GRPC_SERVICE = /^\.?[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/;
const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

export function checkGRPCRoute(doc: Obj, issues: IssueList): void {
  checkRoute(doc, issues, (rule, base) => {
    listAt(rule, 'matches').forEach((m, i) => {
      const method = objAt(m, 'method');
      if (method === undefined) return;
      const at = `${base}/matches/${i}/method`;
      if (!isSet(method, 'service') && !isSet(method, 'method')) issues.add(at, 'needs service, method or both');
      if ((strAt(method, 'type') ?? 'Exact') !== 'Exact') return;
      const service = strAt(method, 'service');
      if (service !== undefined && !GRPC_SERVICE.test(service)) issues.add(`${at}/service`, `must be a fully qualified gRPC service name such as helloworld.Greeter; got "${service}"`);
      const name = strAt(method, 'method');
      if (name !== undefined && !GRPC_METHOD.test(name)) issues.add(`${at}/method`, `must be a gRPC method name such as SayHello; got "${name}"`);
    });
  });
}

export function checkGateway(doc: Obj, issues: IssueList): void {
  const listeners = listAt(objAt(doc, 'spec'), 'listeners');
  issues.duplicates('/spec/listeners', listeners, (l) => strAt(l, 'name'), 'listener name', 'name');
  issues.duplicates(
    '/spec/listeners',
    listeners,
    (l) => (isObj(l) ? `port ${String(l.port)}, protocol ${String(l.protocol)}, hostname ${String(l.hostname ?? '*')}` : undefined),
    'listener with',
    'port',
  );
  listeners.forEach((l, i) => {
    const protocol = strAt(l, 'protocol');
    const at = `/spec/listeners/${i}`;
    if ((protocol === 'HTTP' || protocol === 'TCP' || protocol === 'UDP') && isSet(l, 'tls')) issues.add(`${at}/tls`, `must not be set for protocol ${protocol}`);
    const tls = objAt(l, 'tls');
    if (tls !== undefined && (strAt(tls, 'mode') ?? 'Terminate') === 'Terminate' && listAt(tls, 'certificateRefs').length === 0 && !isSet(tls, 'options')) {
      issues.add(`${at}/tls`, 'certificateRefs or options must be set when mode is Terminate');
    }
    if (protocol === 'HTTPS' && (strAt(objAt(l, 'tls'), 'mode') ?? 'Terminate') !== 'Terminate') issues.add(`${at}/tls/mode`, 'must be Terminate for protocol HTTPS');
    if ((protocol === 'TCP' || protocol === 'UDP') && isSet(l, 'hostname')) issues.add(`${at}/hostname`, `must not be set for protocol ${protocol}`);
  });
}
