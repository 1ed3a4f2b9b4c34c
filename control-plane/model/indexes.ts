/**
 * Lookups over the served resources, kept current from the resource table's deltas: workloads by
 * IP and node, services by VIP and hostname, authorizations by namespace. (Workloads by uid and
 * everything by name are the table's own get().)
 */
import type { Authorization } from '../../common/proto/generated/ambit/v1/Authorization';
import type { Service } from '../../common/proto/generated/ambit/v1/Service';
import type { Workload } from '../../common/proto/generated/ambit/v1/Workload';
import type { ResourceDelta, ResourceId, StoredResource } from './resource-store';
import type { ResourceTable } from './resource-table';

class MultiIndex {
  private readonly map = new Map<string, Set<ResourceId>>();
  add(k: string, id: ResourceId): void {
    let s = this.map.get(k);
    if (s === undefined) this.map.set(k, (s = new Set()));
    s.add(id);
  }
  delete(k: string, id: ResourceId): void {
    const s = this.map.get(k);
    s?.delete(id);
    if (s !== undefined && s.size === 0) this.map.delete(k);
  }
  get(k: string): ReadonlySet<ResourceId> {
    return this.map.get(k) ?? new Set();
  }
}

export class ModelIndexes {
  private readonly workloadsByIp = new MultiIndex();
  private readonly workloadsByNode = new MultiIndex();
  private readonly servicesByVip = new MultiIndex();
  private readonly servicesByHostname = new MultiIndex();
  private readonly authorizationsByNs = new MultiIndex();
  /** What each id was indexed under, to unindex its previous version. */
  private readonly indexedAs = new Map<ResourceId, Array<[MultiIndex, string]>>();

  constructor(private readonly table: ResourceTable) {
    for (const r of table.all()) this.index(r);
    table.subscribe((d) => this.onDelta(d));
  }

  workloadsAt(ip: string): Workload[] {
    return this.resolve(this.workloadsByIp.get(ip), (r) => r.workload);
  }

  workloadsOnNode(node: string): Workload[] {
    return this.resolve(this.workloadsByNode.get(node), (r) => r.workload);
  }

  serviceByVip(vip: string): Service | undefined {
    return this.resolve(this.servicesByVip.get(vip), (r) => r.service)[0];
  }

  serviceByHostname(hostname: string): Service | undefined {
    return this.resolve(this.servicesByHostname.get(hostname), (r) => r.service)[0];
  }

  /** Authorizations defined in `namespace` (any scope). */
  authorizationsIn(namespace: string): Authorization[] {
    return this.resolve(this.authorizationsByNs.get(namespace), (r) => r.authorization);
  }

  private resolve<T>(ids: ReadonlySet<ResourceId>, pick: (r: StoredResource['resource']) => T | null | undefined): T[] {
    const out: T[] = [];
    for (const id of ids) {
      const v = this.table.get(id);
      const picked = v === undefined ? undefined : pick(v.resource);
      if (picked !== undefined && picked !== null) out.push(picked);
    }
    return out;
  }

  private onDelta(d: ResourceDelta): void {
    for (const r of d.removed) this.unindex(r.id);
    for (const r of d.upserted) {
      this.unindex(r.id);
      this.index(r);
    }
  }

  private index(r: StoredResource): void {
    const entries: Array<[MultiIndex, string]> = [];
    const { workload, service, authorization } = r.resource;
    if (workload) {
      for (const ip of workload.addresses ?? []) entries.push([this.workloadsByIp, ip]);
      if (workload.node) entries.push([this.workloadsByNode, workload.node]);
    }
    if (service) {
      for (const vip of service.vips ?? []) entries.push([this.servicesByVip, vip]);
      if (service.hostname) entries.push([this.servicesByHostname, service.hostname]);
    }
    if (authorization) entries.push([this.authorizationsByNs, authorization.namespace ?? '']);
    for (const [idx, k] of entries) idx.add(k, r.id);
    this.indexedAs.set(r.id, entries);
  }

  private unindex(id: ResourceId): void {
    for (const [idx, k] of this.indexedAs.get(id) ?? []) idx.delete(k, id);
    this.indexedAs.delete(id);
  }
}
