/**
 * The test API server's storage, shaped like etcd behind the watch cache: one resourceVersion
 * counter for every write of every resource, an event history that watches replay from a
 * resourceVersion, and compaction, after which a watch (or continue token) from an older
 * resourceVersion is answered 410 Gone.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { alreadyExists, conflict, expired, notFound, type Obj } from './api-status';
import { applyCreateDefaults, ClusterIpAllocator } from './object-defaults';
import { apiVersionOf, resourceId, type ServedResource } from './resources';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  readonly rv: number;
  readonly resource: string;
  readonly type: WatchEventType;
  /** The object after the write (for DELETED: as deleted, with the deletion's resourceVersion). */
  readonly object: Obj;
  /** The object before the write (MODIFIED), so selector-filtered watches can send ADDED/DELETED. */
  readonly previous?: Obj;
}

const clone = <T>(v: T): T => structuredClone(v);
const keyOf = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;
/** RFC 3339 in seconds, as metav1.Time is written. */
const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Everything but metadata and status: what bumps metadata.generation. */
function specPart(o: Obj): string {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
}

function sameContent(a: Obj, b: Obj): boolean {
  const strip = (o: Obj): Obj => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined, managedFields: undefined } });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

export class ObjectStore extends EventEmitter {
  private rv = 1000;
  private readonly objects = new Map<string, Map<string, Obj>>();
  private history: StoredEvent[] = [];
  /** Watches from a resourceVersion older than this are expired. */
  private compactedRv = 0;
  private readonly ips = new ClusterIpAllocator();

  constructor() {
    super();
    this.setMaxListeners(0); // one listener per open watch
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get compactedResourceVersion(): number {
    return this.compactedRv;
  }

  list(res: ServedResource, namespace?: string): Obj[] {
    const all = [...(this.objects.get(resourceId(res))?.values() ?? [])];
    return all
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .sort((a, b) => keyOf(a.metadata.namespace, a.metadata.name).localeCompare(keyOf(b.metadata.namespace, b.metadata.name)))
      .map(clone);
  }

  get(res: ServedResource, namespace: string | undefined, name: string): Obj {
    const o = this.bucket(res).get(keyOf(namespace, name));
    if (o === undefined) throw notFound(res.plural, name);
    return clone(o);
  }

  find(res: ServedResource, namespace: string | undefined, name: string): Obj | undefined {
    const o = this.bucket(res).get(keyOf(namespace, name));
    return o === undefined ? undefined : clone(o);
  }

  create(res: ServedResource, input: Obj): Obj {
    const o = clone(input);
    o.apiVersion = apiVersionOf(res);
    o.kind = res.kind;
    o.metadata ??= {};
    if (o.metadata.name === undefined && typeof o.metadata.generateName === 'string') {
      o.metadata.name = `${o.metadata.generateName}${randomUUID().slice(0, 5)}`;
    }
    if (!res.namespaced) delete o.metadata.namespace;
    const key = keyOf(o.metadata.namespace, o.metadata.name);
    if (this.bucket(res).has(key)) throw alreadyExists(res.plural, o.metadata.name);
    o.metadata.uid = randomUUID();
    o.metadata.creationTimestamp = now();
    o.metadata.generation = 1;
    applyCreateDefaults(res.kind, o, this.ips);
    return this.write(res, 'ADDED', o);
  }

  /**
   * Replaces an object. A resourceVersion in the body must be the current one (409 otherwise).
   * With a status subresource, a write to the object keeps its status and a write to `status`
   * keeps everything else, as the real server does.
   */
  update(res: ServedResource, input: Obj, subresource?: 'status'): Obj {
    const name = input.metadata?.name;
    const current = this.bucket(res).get(keyOf(res.namespaced ? input.metadata?.namespace : undefined, name));
    if (current === undefined) throw notFound(res.plural, name);
    const expectRv = input.metadata?.resourceVersion;
    if (expectRv !== undefined && expectRv !== '' && expectRv !== current.metadata.resourceVersion) throw conflict(res.plural, name);
    let next: Obj;
    if (subresource === 'status') next = { ...clone(current), status: clone(input.status) };
    else {
      next = clone(input);
      next.apiVersion = apiVersionOf(res);
      next.kind = res.kind;
      if (res.statusSubresource) next.status = clone(current.status);
      // Identity and bookkeeping are the server's, whatever the body says.
      next.metadata = { ...next.metadata, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp, generation: current.metadata.generation };
      if (!res.namespaced) delete next.metadata.namespace;
      if (specPart(next) !== specPart(current)) next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    }
    if (next.status === undefined) delete next.status;
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (sameContent(next, current)) return clone(current); // a no-op write is not a new revision
    return this.write(res, 'MODIFIED', next, current);
  }

  delete(res: ServedResource, namespace: string | undefined, name: string): Obj {
    const current = this.bucket(res).get(keyOf(namespace, name));
    if (current === undefined) throw notFound(res.plural, name);
    return this.write(res, 'DELETED', clone(current), current);
  }

  /** Events of `resource` after `rv`; 410 when history before it was compacted away. */
  eventsSince(res: ServedResource, rv: number): StoredEvent[] {
    if (rv < this.compactedRv) throw expired(`too old resource version: ${rv} (${this.compactedRv})`);
    const id = resourceId(res);
    return this.history.filter((e) => e.rv > rv && e.resource === id);
  }

  /** Forgets the event history up to now: older watch resourceVersions get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  private bucket(res: ServedResource): Map<string, Obj> {
    const id = resourceId(res);
    let b = this.objects.get(id);
    if (b === undefined) this.objects.set(id, (b = new Map()));
    return b;
  }

  private write(res: ServedResource, type: WatchEventType, o: Obj, previous?: Obj): Obj {
    this.rv++;
    o.metadata.resourceVersion = String(this.rv);
    const key = keyOf(o.metadata.namespace, o.metadata.name);
    if (type === 'DELETED') this.bucket(res).delete(key);
    else this.bucket(res).set(key, o);
    const event: StoredEvent = { rv: this.rv, resource: resourceId(res), type, object: clone(o), previous: previous && clone(previous) };
    this.history.push(event);
    this.emit('event', event);
    return clone(o);
  }
}
