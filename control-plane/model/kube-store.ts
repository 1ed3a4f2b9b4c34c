/**
 * The raw Kubernetes-shaped objects every source delivered, merged, with the indexes translation
 * needs: objects by kind and namespace, pods by label (for Service selectors) so a selector match
 * looks at candidate pods only, not at every pod in the namespace; and for EndpointSlices (the
 * endpoints of Services without a selector) slices by Service, pods by IP (an address that is a
 * pod's is that pod's workload) and slices by address (a pod change finds the Services whose
 * slices name its IPs).
 */
import { EndpointSlice, KubeObject, ObjectKey, objectKey, parseObjectKey, Pod, SERVICE_NAME_LABEL } from '../kube/objects';

type Bucket = Map<ObjectKey, KubeObject>;

/** A many-to-many index: key -> object keys. */
class KeyIndex {
  private readonly map = new Map<string, Set<ObjectKey>>();
  add(k: string, key: ObjectKey): void {
    let set = this.map.get(k);
    if (set === undefined) this.map.set(k, (set = new Set()));
    set.add(key);
  }
  delete(k: string, key: ObjectKey): void {
    const set = this.map.get(k);
    set?.delete(key);
    if (set !== undefined && set.size === 0) this.map.delete(k);
  }
  get(k: string): ReadonlySet<ObjectKey> {
    return this.map.get(k) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<ObjectKey> = new Set();

/** Pod IPs (podIP and podIPs), without duplicates. */
function podIpsOf(pod: Pod): Set<string> {
  const ips = new Set<string>();
  if (pod.status?.podIP) ips.add(pod.status.podIP);
  for (const p of pod.status?.podIPs ?? []) if (p.ip) ips.add(p.ip);
  return ips;
}

/** Every address an EndpointSlice lists. */
function sliceAddresses(slice: EndpointSlice): Set<string> {
  const out = new Set<string>();
  for (const e of slice.endpoints ?? []) for (const a of e.addresses ?? []) out.add(a);
  return out;
}

/** "<namespace>/<service>" of the Service an EndpointSlice belongs to, if it names one. */
export function sliceServiceKey(slice: KubeObject): string | undefined {
  const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return name === undefined || name === '' ? undefined : `${slice.metadata.namespace ?? 'default'}/${name}`;
}

export class KubeStore {
  private readonly objects = new Map<ObjectKey, { source: string; object: KubeObject }>();
  /** kind -> namespace -> key -> object. */
  private readonly byKindNs = new Map<string, Map<string, Bucket>>();
  /** namespace -> "label=value" -> pod keys. */
  private readonly podLabelIndex = new Map<string, Map<string, Set<ObjectKey>>>();
  /** pod IP -> pod keys (a terminated pod and its successor may share one for a while). */
  private readonly podsByIp = new KeyIndex();
  /** "<namespace>/<service>" -> EndpointSlice keys. */
  private readonly slicesByService = new KeyIndex();
  /** address -> EndpointSlice keys. */
  private readonly slicesByAddress = new KeyIndex();

  get size(): number {
    return this.objects.size;
  }

  get(key: ObjectKey): KubeObject | undefined {
    return this.objects.get(key)?.object;
  }

  getByName<T extends KubeObject>(kind: string, namespace: string, name: string): T | undefined {
    return this.get(`${kind}/${namespace}/${name}`) as T | undefined;
  }

  ownerOf(key: ObjectKey): string | undefined {
    return this.objects.get(key)?.source;
  }

  /** Every object of `kind`, or only those in `namespace`. */
  list<T extends KubeObject>(kind: string, namespace?: string): T[] {
    const byNs = this.byKindNs.get(kind);
    if (byNs === undefined) return [];
    if (namespace !== undefined) return [...(byNs.get(namespace)?.values() ?? [])] as T[];
    const out: KubeObject[] = [];
    for (const bucket of byNs.values()) for (const o of bucket.values()) out.push(o);
    return out as T[];
  }

  namespacesOf(kind: string): string[] {
    return [...(this.byKindNs.get(kind)?.keys() ?? [])];
  }

  /** Pods in `namespace` whose labels match every entry of `selector` (non-empty). */
  podsMatching<T extends KubeObject>(namespace: string, selector: Readonly<Record<string, string>>): T[] {
    const index = this.podLabelIndex.get(namespace);
    const entries = Object.entries(selector);
    if (index === undefined || entries.length === 0) return [];
    // Start from the smallest candidate set, then check the rest of the selector on each pod.
    let smallest: Set<ObjectKey> | undefined;
    for (const [k, v] of entries) {
      const set = index.get(`${k}=${v}`);
      if (set === undefined) return [];
      if (smallest === undefined || set.size < smallest.size) smallest = set;
    }
    const out: KubeObject[] = [];
    for (const key of smallest ?? []) {
      const pod = this.get(key);
      if (pod !== undefined && entries.every(([k, v]) => pod.metadata.labels?.[k] === v)) out.push(pod);
    }
    return out as T[];
  }

  /** Pods whose IPs include `ip`. */
  podsAt(ip: string): Pod[] {
    return this.resolve<Pod>(this.podsByIp.get(ip));
  }

  /** The EndpointSlices of Service `namespace/name` (label kubernetes.io/service-name), by name. */
  endpointSlicesOf(namespace: string, name: string): EndpointSlice[] {
    return this.resolve<EndpointSlice>(this.slicesByService.get(`${namespace}/${name}`)).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  }

  /** EndpointSlices that list `address`. */
  endpointSlicesAt(address: string): EndpointSlice[] {
    return this.resolve<EndpointSlice>(this.slicesByAddress.get(address));
  }

  private resolve<T extends KubeObject>(keys: ReadonlySet<ObjectKey>): T[] {
    const out: T[] = [];
    for (const key of keys) {
      const o = this.get(key);
      if (o !== undefined) out.push(o as T);
    }
    return out;
  }

  /**
   * Stores `object` for `source`. Returns the previous version, or `conflict` when another source
   * already owns the key (the first owner keeps it).
   */
  upsert(source: string, object: KubeObject): { previous?: KubeObject; conflict?: string } {
    const key = objectKey(object);
    const cur = this.objects.get(key);
    if (cur !== undefined && cur.source !== source) return { conflict: cur.source };
    if (cur !== undefined) this.unindex(key, cur.object);
    this.objects.set(key, { source, object });
    this.index(key, object);
    return { previous: cur?.object };
  }

  /** Removes `key` if `source` owns it; returns what was removed. */
  remove(source: string, key: ObjectKey): KubeObject | undefined {
    const cur = this.objects.get(key);
    if (cur === undefined || cur.source !== source) return undefined;
    this.objects.delete(key);
    this.unindex(key, cur.object);
    return cur.object;
  }

  /** Every key owned by `source`. */
  keysOf(source: string): ObjectKey[] {
    const out: ObjectKey[] = [];
    for (const [key, v] of this.objects) if (v.source === source) out.push(key);
    return out;
  }

  private index(key: ObjectKey, o: KubeObject): void {
    const { kind, namespace } = parseObjectKey(key);
    let byNs = this.byKindNs.get(kind);
    if (byNs === undefined) this.byKindNs.set(kind, (byNs = new Map()));
    let bucket = byNs.get(namespace);
    if (bucket === undefined) byNs.set(namespace, (bucket = new Map()));
    bucket.set(key, o);
    if (kind === 'EndpointSlice') {
      const svc = sliceServiceKey(o);
      if (svc !== undefined) this.slicesByService.add(svc, key);
      for (const a of sliceAddresses(o as EndpointSlice)) this.slicesByAddress.add(a, key);
      return;
    }
    if (kind !== 'Pod') return;
    for (const ip of podIpsOf(o as Pod)) this.podsByIp.add(ip, key);
    let labels = this.podLabelIndex.get(namespace);
    if (labels === undefined) this.podLabelIndex.set(namespace, (labels = new Map()));
    for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
      const lk = `${k}=${v}`;
      let set = labels.get(lk);
      if (set === undefined) labels.set(lk, (set = new Set()));
      set.add(key);
    }
  }

  private unindex(key: ObjectKey, o: KubeObject): void {
    const { kind, namespace } = parseObjectKey(key);
    const byNs = this.byKindNs.get(kind);
    const bucket = byNs?.get(namespace);
    bucket?.delete(key);
    if (bucket !== undefined && bucket.size === 0) byNs?.delete(namespace);
    if (kind === 'EndpointSlice') {
      const svc = sliceServiceKey(o);
      if (svc !== undefined) this.slicesByService.delete(svc, key);
      for (const a of sliceAddresses(o as EndpointSlice)) this.slicesByAddress.delete(a, key);
      return;
    }
    if (kind !== 'Pod') return;
    for (const ip of podIpsOf(o as Pod)) this.podsByIp.delete(ip, key);
    const labels = this.podLabelIndex.get(namespace);
    if (labels === undefined) return;
    for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
      const lk = `${k}=${v}`;
      const set = labels.get(lk);
      set?.delete(key);
      if (set !== undefined && set.size === 0) labels.delete(lk);
    }
  }
}
