/**
 * HTTPRoute / GRPCRoute -> Route for waypoints (Gateway API GAMMA: parentRefs of kind Service).
 * Gateway API defaults are made explicit here (a rule without matches matches PathPrefix "/",
 * backend weight 1, mirror percent 100) so the waypoint does not have to know them.
 */
import type { BackendRef } from '../../common/proto/generated/ambit/v1/BackendRef';
import type { MatchType } from '../../common/proto/generated/ambit/v1/MatchType';
import type { Route } from '../../common/proto/generated/ambit/v1/Route';
import type { RouteFilter } from '../../common/proto/generated/ambit/v1/RouteFilter';
import type { RouteMatch } from '../../common/proto/generated/ambit/v1/RouteMatch';
import type { RouteParent } from '../../common/proto/generated/ambit/v1/RouteParent';
import type { KubeObject } from '../kube/objects';
import { serviceHostname, TranslateContext, Warn } from './context';
import { durationMs, optionalDurationMs } from './duration';
import { ExtensionRefSpec, resolveExtensionRef } from './route-extensions';

interface ParentRefSpec { group?: string; kind?: string; namespace?: string; name: string; sectionName?: string; port?: number }
interface BackendRefSpec { group?: string; kind?: string; namespace?: string; name: string; port?: number; weight?: number; filters?: FilterSpec[] }
interface HeaderModifierSpec { set?: Array<{ name: string; value: string }>; add?: Array<{ name: string; value: string }>; remove?: string[] }
interface PathModifierSpec { type: string; replaceFullPath?: string; replacePrefixMatch?: string }
interface FilterSpec {
  type: string;
  requestHeaderModifier?: HeaderModifierSpec;
  responseHeaderModifier?: HeaderModifierSpec;
  requestRedirect?: { scheme?: string; hostname?: string; path?: PathModifierSpec; port?: number; statusCode?: number };
  urlRewrite?: { hostname?: string; path?: PathModifierSpec };
  requestMirror?: { backendRef: BackendRefSpec; percent?: number; fraction?: { numerator: number; denominator?: number } };
  extensionRef?: ExtensionRefSpec;
}
interface MatchSpec {
  path?: { type?: string; value?: string };
  headers?: Array<{ type?: string; name: string; value: string }>;
  queryParams?: Array<{ type?: string; name: string; value: string }>;
  method?: string | { type?: string; service?: string; method?: string };
}
interface RuleSpec {
  name?: string;
  matches?: MatchSpec[];
  filters?: FilterSpec[];
  backendRefs?: BackendRefSpec[];
  timeouts?: { request?: string; backendRequest?: string };
  retry?: { codes?: number[]; attempts?: number; backoff?: string };
}
interface RouteSpec { parentRefs?: ParentRefSpec[]; hostnames?: string[]; rules?: RuleSpec[] }

const matchType = (t: string | undefined): MatchType => (t === 'PathPrefix' ? 'PATH_PREFIX' : t === 'RegularExpression' ? 'REGULAR_EXPRESSION' : 'EXACT');
const isService = (group: string | undefined, kind: string | undefined): boolean => (group ?? '') === '' && (kind ?? 'Service') === 'Service';

/**
 * A backend. Gateway API: an unusable backend keeps its weight and the requests that would go to it
 * get 500; an empty serviceHostname tells the waypoint so. A backend in another namespace needs a
 * ReferenceGrant, which Ambit does not read yet, so it is refused rather than trusted.
 */
function backend(ctx: TranslateContext, b: BackendRefSpec, namespace: string, warn: Warn, field: string, filters: RouteFilter[]): BackendRef {
  const ns = b.namespace ?? namespace;
  const out: BackendRef = { serviceHostname: serviceHostname(ctx.mesh, b.name, ns), serviceName: b.name, serviceNamespace: ns, port: b.port ?? 0, weight: b.weight ?? 1, filters };
  if (!isService(b.group, b.kind)) {
    warn(`backendRef ${b.kind}/${b.name} is not a Service; requests routed to it fail with 500`, field);
    return { ...out, serviceHostname: '' };
  }
  if (ns !== namespace) {
    warn(`backendRef to Service ${ns}/${b.name} crosses namespaces, which needs a ReferenceGrant that Ambit does not support yet; requests routed to it fail with 500`, `${field}/namespace`);
    return { ...out, serviceHostname: '' };
  }
  return out;
}

function filter(ctx: TranslateContext, f: FilterSpec, namespace: string, warn: Warn, field: string): RouteFilter {
  const out: RouteFilter = { type: f.type };
  if (f.requestHeaderModifier) out.requestHeaderModifier = { set: f.requestHeaderModifier.set ?? [], add: f.requestHeaderModifier.add ?? [], remove: f.requestHeaderModifier.remove ?? [] };
  if (f.responseHeaderModifier) out.responseHeaderModifier = { set: f.responseHeaderModifier.set ?? [], add: f.responseHeaderModifier.add ?? [], remove: f.responseHeaderModifier.remove ?? [] };
  if (f.requestRedirect) out.requestRedirect = { ...f.requestRedirect, path: f.requestRedirect.path ?? null, statusCode: f.requestRedirect.statusCode ?? 302 };
  if (f.urlRewrite) out.urlRewrite = { hostname: f.urlRewrite.hostname ?? '', path: f.urlRewrite.path ?? null };
  if (f.requestMirror) {
    const m = f.requestMirror;
    const percent = m.percent ?? (m.fraction !== undefined ? (100 * m.fraction.numerator) / (m.fraction.denominator ?? 100) : 100);
    out.requestMirror = { backend: backend(ctx, m.backendRef, namespace, warn, `${field}/requestMirror/backendRef`, []), percent };
  }
  if (f.extensionRef) {
    out.extensionRef = f.extensionRef;
    resolveExtensionRef(ctx, f.extensionRef, namespace, out, warn, field);
  }
  return out;
}

function match(m: MatchSpec, kind: 'HTTP' | 'GRPC'): RouteMatch {
  const out: RouteMatch = {
    headers: (m.headers ?? []).map((h) => ({ type: matchType(h.type), name: h.name.toLowerCase(), value: h.value })),
    queryParams: (m.queryParams ?? []).map((q) => ({ type: matchType(q.type), name: q.name, value: q.value })),
  };
  if (kind === 'GRPC') {
    const gm = typeof m.method === 'object' ? m.method : undefined;
    if (gm !== undefined) out.grpcMethod = { type: matchType(gm.type), service: gm.service ?? '', method: gm.method ?? '' };
    return out;
  }
  out.path = { type: m.path?.type === undefined ? 'PATH_PREFIX' : matchType(m.path.type), value: m.path?.value ?? '/' };
  if (typeof m.method === 'string') out.method = m.method;
  return out;
}

export function translateRoute(ctx: TranslateContext, route: KubeObject<RouteSpec>, warn: Warn): Route {
  const namespace = route.metadata.namespace ?? 'default';
  const kind = route.kind === 'GRPCRoute' ? 'GRPC' : 'HTTP';
  const spec = route.spec ?? {};
  const parents: RouteParent[] = [];
  (spec.parentRefs ?? []).forEach((p, i) => {
    const ns = p.namespace ?? namespace;
    if ((p.group === undefined || p.group === '' || p.group === 'core') && p.kind === 'Service' && ns !== namespace) {
      // A GAMMA "consumer route" must only affect callers in the route's own namespace; until the
      // waypoint can scope it that way it is not attached at all (else any namespace could reroute
      // another namespace's service).
      warn(`parentRef to Service ${ns}/${p.name} is in another namespace (a consumer route), which Ambit does not support yet; this parent is ignored`, `/spec/parentRefs/${i}`);
    } else if ((p.group === undefined || p.group === '' || p.group === 'core') && p.kind === 'Service') {
      parents.push({ serviceHostname: serviceHostname(ctx.mesh, p.name, ns), serviceName: p.name, serviceNamespace: ns, port: p.port ?? 0 });
    } else {
      warn(`parentRef ${p.kind ?? 'Gateway'} ${p.name} is not a Service; Ambit waypoints attach routes to Services (GAMMA), so this parent is ignored`, `/spec/parentRefs/${i}`);
    }
  });
  const rules = (spec.rules ?? [{}]).map((r, i) => {
    const field = `/spec/rules/${i}`;
    return {
      name: r.name ?? '',
      matches: (r.matches ?? [{}]).map((m) => match(m, kind)),
      filters: (r.filters ?? []).map((f, j) => filter(ctx, f, namespace, warn, `${field}/filters/${j}`)),
      backendRefs: (r.backendRefs ?? []).map((b, j) =>
        backend(ctx, b, namespace, warn, `${field}/backendRefs/${j}`, (b.filters ?? []).map((f, k) => filter(ctx, f, namespace, warn, `${field}/backendRefs/${j}/filters/${k}`))),
      ),
      timeouts: r.timeouts === undefined ? null : { requestMs: optionalDurationMs(r.timeouts.request), backendRequestMs: optionalDurationMs(r.timeouts.backendRequest) },
      retry: r.retry === undefined ? null : { codes: r.retry.codes ?? [], attempts: r.retry.attempts ?? 2 /* Istio's default when the route names no count */, backoffMs: r.retry.backoff === undefined ? 0 : durationMs(r.retry.backoff) },
    };
  });
  const created = route.metadata.creationTimestamp !== undefined ? Date.parse(route.metadata.creationTimestamp) : 0;
  return {
    name: route.metadata.name,
    namespace,
    kind,
    parents,
    hostnames: spec.hostnames ?? [],
    rules,
    creationTimestampMs: Number.isFinite(created) ? created : 0,
  };
}
