/**
 * An immutable ReadonlyMap made of a flat Map plus a few layers of changes, so that applying a
 * delta costs the size of the delta, not of the whole state.
 *
 * Why: every accepted version must leave the previous map intact (a rejected update changes
 * nothing, and a consumer may still hold the map it was given). Copying a 12k-resource map for
 * each one-pod delta cost ~1.5 ms per client; a layer costs microseconds. Lookups walk at most
 * MAX_DEPTH layers; deeper chains, or layers holding many changes, are flattened into a new Map.
 */
const MAX_DEPTH = 8;

/** Marks a key a layer removes. */
const REMOVED: unique symbol = Symbol('removed');
type Slot<V> = V | typeof REMOVED;

export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  private constructor(
    private readonly parent: ReadonlyMap<K, V>,
    private readonly changes: ReadonlyMap<K, Slot<V>>,
    private readonly depth: number,
    /** Changes in this layer and those below it, up to the flat root. */
    private readonly pending: number,
    readonly size: number,
  ) {}

  /** `base` with `set` entries set, then `remove` keys removed (as Map.set then Map.delete). */
  static apply<K, V>(base: ReadonlyMap<K, V>, set: Iterable<[K, V]>, remove: Iterable<K>): ReadonlyMap<K, V> {
    const changes = new Map<K, Slot<V>>();
    for (const [k, v] of set) changes.set(k, v);
    for (const k of remove) changes.set(k, REMOVED);
    let size = base.size;
    for (const [k, v] of changes) {
      const had = base.has(k);
      if (v === REMOVED) size -= had ? 1 : 0;
      else size += had ? 0 : 1;
    }
    const below = base instanceof LayeredMap ? base : undefined;
    const depth = (below?.depth ?? 0) + 1;
    const pending = (below?.pending ?? 0) + changes.size;
    const layered = new LayeredMap<K, V>(base, changes, depth, pending, size);
    // Flatten when lookups would get slow, or when the layers hold as much as a copy would.
    return depth > MAX_DEPTH || pending * 4 > size ? new Map(layered) : layered;
  }

  get(key: K): V | undefined {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the chain of layers
    let m: ReadonlyMap<K, V> = this;
    while (m instanceof LayeredMap) {
      const layer = m as LayeredMap<K, V>;
      const v = layer.changes.get(key);
      if (v !== undefined || layer.changes.has(key)) return v === REMOVED ? undefined : (v as V);
      m = layer.parent;
    }
    return m.get(key);
  }

  has(key: K): boolean {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the chain of layers
    let m: ReadonlyMap<K, V> = this;
    while (m instanceof LayeredMap) {
      const layer = m as LayeredMap<K, V>;
      if (layer.changes.has(key)) return layer.changes.get(key) !== REMOVED;
      m = layer.parent;
    }
    return m.has(key);
  }

  /** In the order a Map edited delta by delta would have: a key removed and set again moves last. */
  *entries(): MapIterator<[K, V]> {
    const layers: LayeredMap<K, V>[] = [];
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the chain of layers
    let m: ReadonlyMap<K, V> = this;
    while (m instanceof LayeredMap) {
      layers.push(m as LayeredMap<K, V>);
      m = (m as LayeredMap<K, V>).parent;
    }
    const root = m;
    // Replay the layers oldest first over the changed keys only.
    const newValue = new Map<K, V>(); // root keys still in place, with a newer value
    const gone = new Set<K>(); // root keys removed at some point (any comeback is in `appended`)
    const appended = new Map<K, V>(); // keys (re)inserted by a layer, in insertion order
    for (let i = layers.length - 1; i >= 0; i--) {
      for (const [k, v] of layers[i].changes) {
        const inRoot = root.has(k) && !gone.has(k);
        if (v === REMOVED) {
          if (inRoot) gone.add(k);
          appended.delete(k);
        } else if (inRoot) newValue.set(k, v);
        else appended.set(k, v); // an existing entry keeps its place, as in a Map
      }
    }
    for (const [k, v] of root) {
      if (gone.has(k)) continue;
      const n = newValue.get(k);
      yield [k, n === undefined && !newValue.has(k) ? v : (n as V)];
    }
    yield* appended;
  }

  *keys(): MapIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}
