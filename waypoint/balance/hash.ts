/**
 * The string hash behind ring hash, Maglev and generated session cookies.
 *
 * Envoy uses xxHash64; JS has no cheap 64-bit integer multiply without BigInt, so Ambit runs two
 * independent 32-bit multiply/rotate lanes over the UTF-16 code units (Math.imul) and finishes them
 * with MurmurHash3's fmix32 avalanche, crossing the lanes so every input bit reaches every output bit.
 * The result keeps 53 bits (21 of one lane, 32 of the other) so it is an exact JS number: ring
 * positions compare exactly and `% tableSize` is exact. Only Ambit waypoints need to agree on it,
 * and they all run this function, so keys stay sticky across waypoint replicas.
 */

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** 53-bit hash of `s` (an integer in [0, 2^53)). Different `seed`s give independent hashes. */
export function hash53(s: string, seed = 0): number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x7f4a7c15 ^ Math.imul(seed, 0x2545f491);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0xcc9e2d51);
    a = (a << 15) | (a >>> 17);
    b = Math.imul(b ^ c, 0x1b873593);
    b = (b << 13) | (b >>> 19);
  }
  a ^= s.length;
  b ^= Math.imul(s.length, 0x27d4eb2d);
  a = fmix32(a ^ Math.imul(b, 0x9e3779b1));
  b = fmix32(b ^ Math.imul(a, 0x85ebca77));
  return (b & 0x1fffff) * 0x100000000 + (a >>> 0);
}
