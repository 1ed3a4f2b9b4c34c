/**
 * The waypoint's read-only view of what it serves, rebuilt from each accepted config version:
 * services by VIP, hostname and name, workloads by uid and IP, the route table, policies and
 * destination policies. Request handling only reads it; a new version replaces it wholesale
 * (requests in flight keep the view they started with).
 */
import net from 'node:net';
import type { Authorization__Output } from '../../common/proto/generated/ambit/v1/Authorization';
import type { DestinationPolicy__Output } from '../../common/proto/generated/ambit/v1/DestinationPolicy';
import type { RequestAuthentication__Output } from '../../common/proto/generated/ambit/v1/RequestAuthentication';
import type { Resource__Output } from '../../common/proto/generated/ambit/v1/Resource';
import type { Route__Output } from '../../common/proto/generated/ambit/v1/Route';
import type { Service__Output } from '../../common/proto/generated/ambit/v1/Service';
import type { ServicePort__Output } from '../../common/proto/generated/ambit/v1/ServicePort';
import type { TrafficPolicy__Output } from '../../common/proto/generated/ambit/v1/TrafficPolicy';
import type { Workload__Output } from '../../common/proto/generated/ambit/v1/Workload';
import { RouteTable } from '../routing/route-table';
import { endpointKey } from '../upstream/endpoint-key';
import { policiesForWaypoint } from '../security/l7-authorization';
import { requestAuthenticationsFor } from '../security/request-authentication';

export type Workload = Workload__Output;
export type Service = Service__Output;

/** One ready endpoint of a service port, as the upstream stage dials it. */
export interface ServiceEndpoint {
  /** The workload's uid; `address:<ip>` for an address endpoint. */
  readonly uid: string;
  readonly address: string;
  /** The target port on the workload. */
  readonly port: number;
  /** Absent for an address endpoint (an EndpointSlice address outside the mesh: plain TCP). */
  readonly workload?: Workload;
  /** HBONE to address:15008 (a mesh workload), else plain TCP to address:port. */
  readonly hbone: boolean;
}

const nsName = (namespace: string, name: string): string => `${namespace}/${name}`;

/** True for the stand-in service of a workload-addressed request (see workloadTarget). */
export function isWorkloadTarget(service: Service): boolean {
  return service.vips.length === 0 && net.isIP(service.hostname) !== 0;
}

export class WaypointView {
  readonly workloads = new Map<string, Workload>();
  readonly services = new Map<string, Service>();
  readonly routes: Route__Output[] = [];
  readonly authorizations: Authorization__Output[] = [];
  readonly requestAuthentications: RequestAuthentication__Output[] = [];
  readonly destinationPolicies = new Map<string, DestinationPolicy__Output>();
  readonly routeTable: RouteTable;
  private readonly workloadByIp = new Map<string, Workload>();
  private readonly serviceByVip = new Map<string, Service>();
  private readonly serviceByHost = new Map<string, Service>();
  private readonly endpointCache = new Map<string, ServiceEndpoint[]>();
  private readonly workloadServices = new Map<string, Service>();
  private readonly authzCache = new Map<string, Authorization__Output[]>();
  private readonly authnCache = new Map<string, RequestAuthentication__Output[]>();

  constructor(
    readonly version: string,
    resources: Iterable<Resource__Output>,
    private readonly self: { readonly namespace: string; readonly name: string; readonly rootNamespace: string },
  ) {
    for (const r of resources) {
      if (r.workload) this.addWorkload(r.workload);
      else if (r.service) this.addService(r.service);
      else if (r.route) this.routes.push(r.route);
      else if (r.authorization) this.authorizations.push(r.authorization);
      else if (r.requestAuthentication) this.requestAuthentications.push(r.requestAuthentication);
      else if (r.destinationPolicy) this.destinationPolicies.set(r.destinationPolicy.host, r.destinationPolicy);
    }
    this.routeTable = new RouteTable(this.routes);
  }

  static empty(self: { namespace: string; name: string; rootNamespace: string }): WaypointView {
    return new WaypointView('', [], self);
  }

  workloadAt(ip: string): Workload | undefined {
    return this.workloadByIp.get(ip);
  }

  serviceAt(vip: string): Service | undefined {
    return this.serviceByVip.get(vip);
  }

  serviceNamed(namespace: string, name: string): Service | undefined {
    return this.services.get(nsName(namespace, name));
  }

  serviceByHostname(hostname: string): Service | undefined {
    return this.serviceByHost.get(hostname);
  }

  /**
   * The service a Host header names on the plain listener: its full hostname, "<name>.<ns>",
   * "<name>.<ns>.svc", or "<name>" in the waypoint's own namespace (Kubernetes DNS search rules).
   */
  serviceForHost(host: string): Service | undefined {
    const h = host.toLowerCase();
    const full = this.serviceByHost.get(h);
    if (full) return full;
    const parts = h.split('.');
    if (parts.length === 1) return this.serviceNamed(this.self.namespace, parts[0]);
    if (parts.length === 2 || (parts.length === 3 && parts[2] === 'svc')) return this.serviceNamed(parts[1], parts[0]);
    return this.serviceByVip.get(h);
  }

  /**
   * Traffic addressed to a workload bound to this waypoint (istio.io/waypoint-for: workload|all)
   * has no Service: it is served as a one-endpoint service of that workload on the dialed port, so
   * the same pipeline (policy, timeouts, telemetry) applies. No route attaches to it.
   */
  workloadTarget(ip: string, port: number): Service | undefined {
    const w = this.workloadByIp.get(ip);
    if (!w) return undefined;
    const key = `${ip}:${port}`;
    let svc = this.workloadServices.get(key);
    if (!svc) {
      svc = {
        name: w.name,
        namespace: w.namespace,
        hostname: ip,
        vips: [],
        ports: [{ servicePort: port, targetPort: port, name: '', appProtocol: '' }],
        endpoints: [{ workloadUid: w.uid, ports: { [port]: port }, workloadName: w.name, address: '' }],
        waypoint: null,
        labels: {},
      } as unknown as Service;
      this.workloadServices.set(key, svc);
    }
    return svc;
  }

  portOf(service: Service, port: number): ServicePort__Output | undefined {
    return service.ports.find((p) => p.servicePort === port);
  }

  /** Ready endpoints of `service` on service port `port`, with the target port resolved per workload. */
  endpointsOf(service: Service, port: number): ServiceEndpoint[] {
    const key = `${service.namespace}/${service.name}/${service.hostname}:${port}`;
    let list = this.endpointCache.get(key);
    if (list) return list;
    list = [];
    const sp = this.portOf(service, port);
    for (const ep of service.endpoints) {
      const mapped = (ep.ports as Record<string, number>)[String(port)];
      const target = Number(mapped) || sp?.targetPort || port;
      if (!ep.workloadUid) {
        // An address endpoint: outside the mesh, a plain TCP/HTTP upstream.
        if (ep.address) list.push({ uid: `address:${ep.address}`, address: ep.address, port: target, hbone: false });
        continue;
      }
      const w = this.workloads.get(ep.workloadUid);
      if (!w || !w.ready || w.addresses.length === 0) continue;
      list.push({ uid: w.uid, address: w.addresses[0], port: target, workload: w, hbone: w.protocol === 'HBONE' });
    }
    this.endpointCache.set(key, list);
    return list;
  }

  /** Every endpoint this view can send to (pooled upstream connections to others are closed). */
  endpointKeys(): Set<string> {
    const keys = new Set<string>();
    for (const svc of this.services.values()) for (const p of svc.ports) for (const ep of this.endpointsOf(svc, p.servicePort)) keys.add(endpointKey(ep));
    return keys;
  }

  /**
   * Whether this waypoint takes tunnels for `ip`: a Service bound to it, or a workload bound to it
   * (waypoint-for workload|all). Route backends and other workloads are reached through it, never
   * addressed to it.
   */
  serves(ip: string): boolean {
    const svc = this.serviceByVip.get(ip);
    if (svc) return this.boundHere(svc.waypoint, svc.namespace);
    const w = this.workloadByIp.get(ip);
    return w !== undefined && this.boundHere(w.waypoint, w.namespace);
  }

  private boundHere(b: { name: string; namespace: string } | null | undefined, ownerNamespace: string): boolean {
    return !!b && b.name === this.self.name && (b.namespace || ownerNamespace) === this.self.namespace;
  }

  /** The traffic policy for `hostname` on `port` (port-level settings win, as in Istio). */
  trafficPolicyFor(hostname: string, port: number): { policy: TrafficPolicy__Output | null; source?: string } {
    const dp = this.destinationPolicies.get(hostname);
    if (!dp) return { policy: null };
    const perPort = dp.portLevelSettings.find((p) => p.port === port);
    return { policy: perPort?.trafficPolicy ?? dp.trafficPolicy, source: nsName(dp.namespace, dp.name) };
  }

  /** AuthorizationPolicies this waypoint enforces for requests to `service` (cached). */
  authorizationsFor(target: Service | undefined): Authorization__Output[] {
    const service = target && !isWorkloadTarget(target) ? target : undefined;
    const key = service ? nsName(service.namespace, service.name) : '';
    let list = this.authzCache.get(key);
    if (!list) {
      list = policiesForWaypoint(this.authorizations, this.self, service ? { namespace: service.namespace, name: service.name } : undefined, this.self.rootNamespace);
      this.authzCache.set(key, list);
    }
    return list;
  }

  /** RequestAuthentications for requests to `service` (cached). */
  requestAuthenticationsFor(target: Service | undefined): RequestAuthentication__Output[] {
    const service = target && !isWorkloadTarget(target) ? target : undefined;
    const key = service ? nsName(service.namespace, service.name) : '';
    let list = this.authnCache.get(key);
    if (!list) {
      list = requestAuthenticationsFor(this.requestAuthentications, this.self, service ? { namespace: service.namespace, name: service.name } : undefined, this.self.rootNamespace);
      this.authnCache.set(key, list);
    }
    return list;
  }

  private addWorkload(w: Workload): void {
    this.workloads.set(w.uid, w);
    for (const ip of w.addresses) {
      const seen = this.workloadByIp.get(ip);
      if (!seen || (!seen.ready && w.ready)) this.workloadByIp.set(ip, w);
    }
  }

  private addService(s: Service): void {
    this.services.set(nsName(s.namespace, s.name), s);
    for (const vip of s.vips) this.serviceByVip.set(vip, s);
    if (s.hostname) this.serviceByHost.set(s.hostname.toLowerCase(), s);
  }
}
