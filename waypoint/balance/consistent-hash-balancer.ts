/**
 * RING_HASH and MAGLEV balancers. Building a table costs O(ring size) / O(M), so tables are cached
 * per endpoint set: by the identity of the endpoints array (no work at all when the caller reuses
 * its array) and by the sorted uid list (a rebuilt array of the same endpoints, e.g. after outlier
 * filtering, costs one sort). A pick is then a binary search (ring) or one array read (Maglev).
 */
import { ActiveRequests, candidates } from './active-requests';
import type { UpstreamEndpoint } from './endpoint';
import { hash53 } from './hash';
import type { HashTable } from './hash-table';
import { MaglevTable } from './maglev';
import { RingHashTable } from './ring-hash';
import type { LoadBalancer } from './load-balancer';

/** Endpoint sets kept per balancer: the current one plus recent outlier-filtered variants. */
const MAX_CACHED_TABLES = 8;

interface Resolved {
  readonly table: HashTable;
  readonly byUid: ReadonlyMap<string, UpstreamEndpoint>;
}

export class ConsistentHashBalancer implements LoadBalancer {
  private readonly active = new ActiveRequests();
  private readonly byArray = new WeakMap<readonly UpstreamEndpoint[], Resolved>();
  private readonly tables = new Map<string, HashTable>();

  constructor(
    readonly kind: 'RING_HASH' | 'MAGLEV',
    /** Minimum ring size (RING_HASH) or prime table size (MAGLEV). */
    private readonly size: number,
    private readonly random: () => number,
  ) {}

  pick<E extends UpstreamEndpoint>(endpoints: readonly E[], hashKey: string | undefined, exclude?: ReadonlySet<string>): E | undefined {
    if (endpoints.length === 0) return undefined;
    if (hashKey === undefined) {
      // No key (header/cookie/parameter absent): Envoy then picks a random host.
      const pool = candidates(endpoints, exclude);
      return pool[Math.floor(this.random() * pool.length)];
    }
    const { table, byUid } = this.resolve(endpoints);
    const h = hash53(hashKey);
    const e = table.lookup(h, exclude) ?? table.lookup(h);
    return e === undefined ? undefined : (byUid.get(table.uids[e]) as E);
  }

  started(uid: string): void {
    this.active.started(uid);
  }

  finished(uid: string): void {
    this.active.finished(uid);
  }

  /** Cached table count, for tests and /config_dump. */
  get cachedTables(): number {
    return this.tables.size;
  }

  private resolve(endpoints: readonly UpstreamEndpoint[]): Resolved {
    const hit = this.byArray.get(endpoints);
    if (hit !== undefined) return hit;
    const byUid = new Map<string, UpstreamEndpoint>();
    for (const e of endpoints) if (!byUid.has(e.uid)) byUid.set(e.uid, e);
    const uids = [...byUid.keys()].sort();
    const key = uids.join('\0');
    let table = this.tables.get(key);
    if (table === undefined) {
      table = this.kind === 'MAGLEV' ? new MaglevTable(uids, this.size) : new RingHashTable(uids, this.size);
      if (this.tables.size >= MAX_CACHED_TABLES) this.tables.delete(this.tables.keys().next().value as string);
    } else {
      this.tables.delete(key); // re-insert below: most recently used last
    }
    this.tables.set(key, table);
    const resolved = { table, byUid };
    this.byArray.set(endpoints, resolved);
    return resolved;
  }
}
