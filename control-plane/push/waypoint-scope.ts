/**
 * What a waypoint "<ns>/<name>" needs, as indexes rebuilt from the store's services and routes:
 *
 * - services bound to it (Service.waypoint), and the services its routes send traffic to
 *   (backends and mirrors: the waypoint opens HBONE to their endpoints, so it needs them too);
 * - workloads that are endpoints of those services, its own pods, and workloads bound to it directly;
 * - routes with a parent among its bound services;
 * - authorizations / request authentications whose targetRefs name the waypoint (Gateway) or one of
 *   its bound services;
 * - destination policies for the host of one of those services or of a route backend, wildcard
 *   hosts ("*.ns.svc.cluster.local") included.
 */
import type { PolicyTargetRef } from '../../common/proto/generated/ambit/v1/PolicyTargetRef';
import type { BackendRef } from '../../common/proto/generated/ambit/v1/BackendRef';
import type { Route } from '../../common/proto/generated/ambit/v1/Route';
import type { WaypointBinding } from '../../common/proto/generated/ambit/v1/WaypointBinding';
import type { Workload } from '../../common/proto/generated/ambit/v1/Workload';
import { ResourceId, resourceId, ResourceStore, StoredResource } from '../model/resource-store';
import type { WaypointRef } from './subscription';

/** PolicyScope.TARGET_REFS (authorization.proto); stored resources may carry the name or number. */
export function isTargetRefsScope(scope: unknown): boolean {
  return scope === 'TARGET_REFS' || scope === 3;
}

/** Labels Istio (and Gateway API implementations) put on a Gateway's pods. */
const GATEWAY_NAME_LABELS = ['gateway.networking.k8s.io/gateway-name', 'istio.io/gateway-name'];

const POLICY_TYPES = ['AUTHORIZATION', 'REQUEST_AUTHENTICATION', 'DESTINATION_POLICY'] as const;

/** Namespace of "<ns>/<name>". */
const namespaceOf = (name: string): string => name.slice(0, Math.max(0, name.indexOf('/')));

const sameSet = <T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean => a.size === b.size && [...a].every((x) => b.has(x));

export class WaypointScope {
  /** SERVICE ids bound to the waypoint. */
  private bound = new Set<ResourceId>();
  /** SERVICE ids reached through a route of the waypoint (may overlap `bound`). */
  private backends = new Set<ResourceId>();
  /** Hostnames of bound and backend services (destination policies are keyed by host). */
  private hosts = new Set<string>();
  private endpointUids = new Set<string>();
  private routes = new Set<ResourceId>();

  constructor(private readonly waypoint: WaypointRef) {}

  private isThisWaypoint(binding: Readonly<WaypointBinding> | null | undefined, ownerNamespace: string): boolean {
    if (!binding || binding.name !== this.waypoint.name) return false;
    return (binding.namespace || ownerNamespace) === this.waypoint.namespace;
  }

  /** Recomputes the indexes; true when anything the waypoint can see may have changed. */
  rebuild(store: ResourceStore): boolean {
    const bound = new Set<ResourceId>();
    const byHost = new Map<string, ResourceId>();
    for (const s of store.ofType('SERVICE')) {
      const svc = s.resource.service;
      if (!svc) continue;
      if (svc.hostname) byHost.set(svc.hostname, s.id);
      if (this.isThisWaypoint(svc.waypoint, svc.namespace ?? namespaceOf(s.name))) bound.add(s.id);
    }
    const routes = new Set<ResourceId>();
    const backends = new Set<ResourceId>();
    const hosts = new Set<string>();
    for (const r of store.ofType('ROUTE')) {
      const route = r.resource.route;
      if (!route) continue;
      const routeNs = route.namespace ?? namespaceOf(r.name);
      const attached = (route.parents ?? []).some((p) => {
        const byName = p.serviceName ? resourceId('SERVICE', `${p.serviceNamespace || routeNs}/${p.serviceName}`) : undefined;
        const byHostname = p.serviceHostname ? byHost.get(p.serviceHostname) : undefined;
        return (byName !== undefined && bound.has(byName)) || (byHostname !== undefined && bound.has(byHostname));
      });
      if (!attached) continue;
      routes.add(r.id);
      for (const b of routeBackends(route)) {
        // An empty hostname marks a refused backend (another namespace, not a Service): requests
        // to it get 500, so the waypoint must not be handed that service or its endpoints.
        if (!b.serviceHostname) continue;
        hosts.add(b.serviceHostname);
        const id = b.serviceName ? resourceId('SERVICE', `${b.serviceNamespace || routeNs}/${b.serviceName}`) : byHost.get(b.serviceHostname);
        if (id !== undefined && store.get(id) !== undefined) backends.add(id);
      }
    }
    const endpointUids = new Set<string>();
    for (const id of [...bound, ...backends]) {
      const svc = store.get(id)?.resource.service;
      if (!svc) continue;
      if (svc.hostname) hosts.add(svc.hostname);
      for (const e of svc.endpoints ?? []) if (e.workloadUid) endpointUids.add(e.workloadUid);
    }
    const changed =
      !sameSet(bound, this.bound) ||
      !sameSet(backends, this.backends) ||
      !sameSet(hosts, this.hosts) ||
      !sameSet(endpointUids, this.endpointUids) ||
      !sameSet(routes, this.routes);
    this.bound = bound;
    this.backends = backends;
    this.hosts = hosts;
    this.endpointUids = endpointUids;
    this.routes = routes;
    return changed;
  }

  /** Whether the waypoint should have `r` (types aside). */
  includes(r: StoredResource): boolean {
    const res = r.resource;
    switch (r.type) {
      case 'SERVICE':
        return this.bound.has(r.id) || this.backends.has(r.id);
      case 'WORKLOAD':
        return this.endpointUids.has(r.name) || (res.workload ? this.isOwnOrBoundWorkload(res.workload) : false);
      case 'ROUTE':
        return this.routes.has(r.id);
      case 'AUTHORIZATION':
        return this.targets(res.authorization?.targetRefs, res.authorization?.namespace ?? namespaceOf(r.name));
      case 'REQUEST_AUTHENTICATION':
        return this.targets(
          res.requestAuthentication?.targetRefs,
          res.requestAuthentication?.namespace ?? namespaceOf(r.name),
        );
      case 'DESTINATION_POLICY':
        return res.destinationPolicy?.host !== undefined && this.hasHost(res.destinationPolicy.host);
      default:
        return false;
    }
  }

  /** Ids that may be visible under the current indexes (beyond per-resource matches). */
  *candidates(store: ResourceStore): Iterable<ResourceId> {
    yield* this.bound;
    yield* this.backends;
    yield* this.routes;
    for (const uid of this.endpointUids) yield resourceId('WORKLOAD', uid);
    // Policies are few (~1k) next to workloads: re-checking all of them is cheaper than indexing.
    for (const t of POLICY_TYPES) for (const p of store.ofType(t)) yield p.id;
  }

  /** Istio DestinationRule hosts may be wildcards: "*" or "*.<suffix>" (e.g. "*.shop.svc.cluster.local"). */
  private hasHost(host: string): boolean {
    if (!host.startsWith('*')) return this.hosts.has(host);
    const suffix = host.slice(1);
    for (const h of this.hosts) if (h.endsWith(suffix)) return true;
    return false;
  }

  private isOwnOrBoundWorkload(w: Readonly<Workload>): boolean {
    const ns = w.namespace ?? '';
    if (this.isThisWaypoint(w.waypoint, ns)) return true;
    if (!w.isWaypoint || ns !== this.waypoint.namespace) return false;
    const labels = w.labels ?? {};
    return GATEWAY_NAME_LABELS.some((l) => labels[l] === this.waypoint.name);
  }

  private targets(refs: readonly Readonly<PolicyTargetRef>[] | undefined, policyNamespace: string): boolean {
    for (const ref of refs ?? []) {
      const ns = ref.namespace || policyNamespace;
      if (ref.kind === 'Gateway' && ref.name === this.waypoint.name && ns === this.waypoint.namespace) return true;
      if (ref.kind === 'Service' && this.bound.has(resourceId('SERVICE', `${ns}/${ref.name}`))) return true;
    }
    return false;
  }
}

function* routeBackends(route: Readonly<Route>): Iterable<Readonly<BackendRef>> {
  for (const rule of route.rules ?? []) {
    for (const f of rule.filters ?? []) if (f.requestMirror?.backend) yield f.requestMirror.backend;
    for (const b of rule.backendRefs ?? []) {
      yield b;
      for (const f of b.filters ?? []) if (f.requestMirror?.backend) yield f.requestMirror.backend;
    }
  }
}
