/**
 * Ketama-style ring hash (Envoy's RING_HASH, Istio's consistentHash.ringHash).
 *
 * Each endpoint is hashed onto the ring k times ("<uid>_<i>", i < k), k = ceil(minimumRingSize / n)
 * rounded up to a power of two, so the ring has at least minimumRingSize entries (Envoy:
 * minimum_ring_size, default 1024, maximum 8M) and at most twice that. Envoy scales k exactly with n,
 * so every scale-up or -down adds or drops entries of the surviving endpoints and moves their keys;
 * with the power-of-two rounding k stays put unless n crosses a power-of-two boundary of the
 * quotient, and removing an endpoint then only moves the keys that landed on its own entries.
 * A key goes to the first entry at or after its hash, wrapping around.
 */
import { hash53 } from './hash';
import type { HashTable } from './hash-table';

export const RING_HASH_DEFAULT_MIN_SIZE = 1024;
/** Envoy's default maximum_ring_size. */
export const RING_HASH_MAX_SIZE = 8 * 1024 * 1024;

export class RingHashTable implements HashTable {
  private readonly positions: Float64Array;
  private readonly owners: Uint32Array;

  constructor(readonly uids: readonly string[], minimumRingSize: number) {
    const wanted = minimumRingSize > 0 ? minimumRingSize : RING_HASH_DEFAULT_MIN_SIZE;
    const perEndpoint = uids.length === 0 ? 0 : Math.min(
      nextPowerOfTwo(Math.ceil(Math.min(wanted, RING_HASH_MAX_SIZE) / uids.length)),
      Math.max(1, Math.floor(RING_HASH_MAX_SIZE / uids.length)),
    );
    const size = perEndpoint * uids.length;
    const hashes = new Float64Array(size);
    const owner = new Uint32Array(size);
    for (let e = 0, k = 0; e < uids.length; e++) {
      for (let i = 0; i < perEndpoint; i++, k++) {
        hashes[k] = hash53(`${uids[e]}_${i}`);
        owner[k] = e;
      }
    }
    // Sort entry indices by position; ties (vanishingly rare at 53 bits) by endpoint, so every
    // replica builds the same ring.
    const order = new Uint32Array(size);
    for (let k = 0; k < size; k++) order[k] = k;
    order.sort((x, y) => hashes[x] - hashes[y] || owner[x] - owner[y]);
    this.positions = new Float64Array(size);
    this.owners = new Uint32Array(size);
    for (let k = 0; k < size; k++) {
      this.positions[k] = hashes[order[k]];
      this.owners[k] = owner[order[k]];
    }
  }

  get size(): number {
    return this.positions.length;
  }

  lookup(hash: number, skip?: ReadonlySet<string>): number | undefined {
    const n = this.positions.length;
    if (n === 0) return undefined;
    // First entry with position >= hash (binary search), wrapping to the start.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.positions[mid] < hash) lo = mid + 1;
      else hi = mid;
    }
    const start = lo === n ? 0 : lo;
    if (skip === undefined || skip.size === 0) return this.owners[start];
    for (let i = 0; i < n; i++) {
      const e = this.owners[(start + i) % n];
      if (!skip.has(this.uids[e])) return e;
    }
    return undefined;
  }
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
