/**
 * The agent's read-only view of the mesh, rebuilt from each accepted config version: workloads by
 * uid and IP, services by VIP and hostname, authorization and peer-authentication policies. The
 * data path only reads it; a new version replaces it wholesale (the old one stays valid for
 * lookups already in flight).
 */
import type { Authorization__Output } from '../../common/proto/generated/ambit/v1/Authorization';
import type { PeerAuthentication__Output } from '../../common/proto/generated/ambit/v1/PeerAuthentication';
import type { Resource__Output } from '../../common/proto/generated/ambit/v1/Resource';
import type { Service__Output } from '../../common/proto/generated/ambit/v1/Service';
import type { Workload__Output } from '../../common/proto/generated/ambit/v1/Workload';
import { policiesFor } from '../policy/authorization';
import { workloadIdentity } from '../../common/identity/workload-identity';

export { workloadIdentity };

export type Workload = Workload__Output;
export type Service = Service__Output;
export type Authorization = Authorization__Output;
export type PeerAuthentication = PeerAuthentication__Output;

const nsName = (namespace: string, name: string): string => `${namespace}/${name}`;

export class MeshView {
  readonly workloads = new Map<string, Workload>();
  readonly services = new Map<string, Service>();
  readonly authorizations = new Map<string, Authorization>();
  readonly peerAuthentications: PeerAuthentication[] = [];
  private readonly workloadByIp = new Map<string, Workload>();
  private readonly workloadByName = new Map<string, Workload>();
  private readonly serviceByVip = new Map<string, Service>();
  private readonly serviceByHost = new Map<string, Service>();
  private readonly servicesByWorkload = new Map<string, Service[]>();
  private readonly policyCache = new Map<string, Authorization[]>();

  constructor(
    readonly version: string,
    resources: Iterable<Resource__Output>,
  ) {
    for (const r of resources) {
      if (r.workload) this.addWorkload(r.workload);
      else if (r.service) this.addService(r.service);
      else if (r.authorization) this.authorizations.set(nsName(r.authorization.namespace, r.authorization.name), r.authorization);
      else if (r.peerAuthentication) this.peerAuthentications.push(r.peerAuthentication);
    }
  }

  static empty(): MeshView {
    return new MeshView('', []);
  }

  workload(uid: string): Workload | undefined {
    return this.workloads.get(uid);
  }

  workloadNamed(namespace: string, name: string): Workload | undefined {
    return this.workloadByName.get(nsName(namespace, name));
  }

  workloadAt(ip: string): Workload | undefined {
    return this.workloadByIp.get(ip);
  }

  serviceAt(vip: string): Service | undefined {
    return this.serviceByVip.get(vip);
  }

  serviceNamed(hostname: string): Service | undefined {
    return this.serviceByHost.get(hostname);
  }

  /**
   * The policies the agent enforces for a destination workload (mesh-wide, its namespace's, and the
   * selector policies the control plane matched), sorted; cached, since a view never changes.
   */
  authorizationsFor(workload: Workload): Authorization[] {
    let list = this.policyCache.get(workload.uid);
    if (!list) {
      list = policiesFor(workload, this.authorizations);
      this.policyCache.set(workload.uid, list);
    }
    return list;
  }

  /**
   * The Service a connection to `workload` on `port` most likely came through (inbound side,
   * where the client's VIP is no longer visible): one whose endpoint maps some port to it.
   */
  serviceFor(workload: Workload, port: number): Service | undefined {
    const candidates = this.servicesByWorkload.get(workload.uid) ?? [];
    return (
      candidates.find((s) =>
        s.endpoints.some((ep) => ep.workloadUid === workload.uid && Object.values(ep.ports as Record<string, number>).map(Number).includes(port)),
      ) ?? candidates[0]
    );
  }

  /** The waypoint workloads serving a binding's addresses (a waypoint Service VIP or pod IPs). */
  waypointWorkloads(addresses: readonly string[]): Workload[] {
    const out: Workload[] = [];
    for (const address of addresses) {
      const svc = this.serviceByVip.get(address);
      if (svc) {
        for (const ep of svc.endpoints) {
          const w = this.workloads.get(ep.workloadUid);
          if (w) out.push(w);
        }
        continue;
      }
      const w = this.workloadByIp.get(address);
      if (w) out.push(w);
    }
    return out;
  }

  private addWorkload(w: Workload): void {
    this.workloads.set(w.uid, w);
    this.workloadByName.set(nsName(w.namespace, w.name), w);
    for (const ip of w.addresses) {
      // Two workloads claiming one IP (a terminated pod and its successor): prefer the ready one.
      const seen = this.workloadByIp.get(ip);
      if (!seen || (!seen.ready && w.ready)) this.workloadByIp.set(ip, w);
    }
  }

  private addService(s: Service): void {
    this.services.set(nsName(s.namespace, s.name), s);
    for (const vip of s.vips) this.serviceByVip.set(vip, s);
    for (const ep of s.endpoints) {
      const list = this.servicesByWorkload.get(ep.workloadUid) ?? [];
      list.push(s);
      this.servicesByWorkload.set(ep.workloadUid, list);
    }
    if (s.hostname) this.serviceByHost.set(s.hostname, s);
  }
}
