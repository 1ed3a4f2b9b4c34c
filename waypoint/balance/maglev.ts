/**
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016, §3.4; Envoy's MAGLEV, Istio's
 * consistentHash.maglev). Every endpoint gets a permutation of the table slots from two hashes of its
 * uid (offset, skip); endpoints take turns claiming their next still-free slot until the table is
 * full, so each owns M/n slots (±1) and a key lookup is one array read. The table size M must be
 * prime so every skip generates a full permutation (Envoy rejects other sizes; default 65537).
 */
import { WaypointError, WaypointErrorCodes } from '../errors';
import { hash53 } from './hash';
import type { HashTable } from './hash-table';

export const MAGLEV_DEFAULT_TABLE_SIZE = 65537;
/** Envoy's upper bound for table_size. */
export const MAGLEV_MAX_TABLE_SIZE = 5000011;

// Seeds for the two permutation hashes; any fixed values work, they only have to be independent.
const OFFSET_SEED = 0x6d61676c;
const SKIP_SEED = 0x65762121;

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** The effective table size for a configured one (0 = default); throws if it cannot be used. */
export function maglevTableSize(configured: number): number {
  const size = configured > 0 ? configured : MAGLEV_DEFAULT_TABLE_SIZE;
  if (size > MAGLEV_MAX_TABLE_SIZE || !isPrime(size)) {
    throw new WaypointError(
      WaypointErrorCodes.INVALID_BACKEND,
      `DestinationRule loadBalancer.consistentHash.maglev.tableSize ${size} must be a prime <= ${MAGLEV_MAX_TABLE_SIZE} (e.g. 65537)`,
    );
  }
  return size;
}

export class MaglevTable implements HashTable {
  private readonly slots: Int32Array;

  constructor(readonly uids: readonly string[], tableSize: number) {
    const m = maglevTableSize(tableSize);
    const n = uids.length;
    this.slots = new Int32Array(n === 0 ? 0 : m).fill(-1);
    if (n === 0) return;
    const position = new Float64Array(n);
    const skip = new Float64Array(n);
    for (let e = 0; e < n; e++) {
      position[e] = hash53(uids[e], OFFSET_SEED) % m;
      skip[e] = (hash53(uids[e], SKIP_SEED) % (m - 1)) + 1;
    }
    // Round-robin population: each endpoint in turn walks its permutation to the first free slot.
    let filled = 0;
    for (;;) {
      for (let e = 0; e < n; e++) {
        let c = position[e];
        while (this.slots[c] !== -1) c = (c + skip[e]) % m;
        this.slots[c] = e;
        position[e] = (c + skip[e]) % m;
        if (++filled === m) return;
      }
    }
  }

  get size(): number {
    return this.slots.length;
  }

  lookup(hash: number, skip?: ReadonlySet<string>): number | undefined {
    const m = this.slots.length;
    if (m === 0) return undefined;
    const start = hash % m;
    if (skip === undefined || skip.size === 0) return this.slots[start];
    for (let i = 0; i < m; i++) {
      const e = this.slots[(start + i) % m];
      if (!skip.has(this.uids[e])) return e;
    }
    return undefined;
  }
}
