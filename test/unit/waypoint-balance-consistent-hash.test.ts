import { createLoadBalancer, LoadBalancer } from '../../waypoint/balance/load-balancer';
import { ConsistentHashBalancer } from '../../waypoint/balance/consistent-hash-balancer';
import { MaglevTable, isPrime } from '../../waypoint/balance/maglev';
import { RingHashTable } from '../../waypoint/balance/ring-hash';
import { hash53 } from '../../waypoint/balance/hash';

const make = (n: number) => Array.from({ length: n }, (_, i) => ({ uid: `pod-${i}.ns:8080`, address: `10.1.0.${i + 1}`, port: 8080 }));

const ring = (size = 1024): LoadBalancer =>
  createLoadBalancer({ simple: 'LB_UNSPECIFIED', consistentHash: { httpHeaderName: 'x-user', hashKey: 'httpHeaderName', ringHashMinimumRingSize: size, algorithm: 'ringHashMinimumRingSize' } });
const maglev = (size = 65537): LoadBalancer =>
  createLoadBalancer({ simple: 'LB_UNSPECIFIED', consistentHash: { httpHeaderName: 'x-user', hashKey: 'httpHeaderName', maglevTableSize: size, algorithm: 'maglevTableSize' } });

describe.each([
  ['RING_HASH', ring],
  ['MAGLEV', maglev],
])('%s', (kind, build) => {
  it('is the configured kind', () => {
    expect(build().kind).toBe(kind);
  });

  it('is sticky: the same key always reaches the same endpoint, also from another balancer', () => {
    const eps = make(4);
    const a = build();
    const b = build();
    for (let k = 0; k < 200; k++) {
      const first = a.pick(eps, `user-${k}`)!;
      expect(a.pick(eps, `user-${k}`)).toBe(first);
      expect(b.pick([...eps].reverse(), `user-${k}`)!.uid).toBe(first.uid);
    }
  });

  it('spreads 10k keys over 4 endpoints within 2x of the fair share', () => {
    const eps = make(4);
    const lb = build();
    const counts = new Map<string, number>();
    for (let k = 0; k < 10_000; k++) {
      const e = lb.pick(eps, `session-${k}`)!;
      counts.set(e.uid, (counts.get(e.uid) ?? 0) + 1);
    }
    expect(counts.size).toBe(4);
    for (const c of counts.values()) {
      expect(c).toBeLessThan(2 * 2500);
      expect(c).toBeGreaterThan(2500 / 2);
    }
  });

  it('moves few keys when one of 5 endpoints is removed', () => {
    const eps = make(5);
    const fewer = eps.filter((e) => e.uid !== 'pod-2.ns:8080');
    const lb = build();
    let kept = 0;
    let movable = 0;
    for (let k = 0; k < 5000; k++) {
      const before = lb.pick(eps, `k${k}`)!;
      const after = lb.pick(fewer, `k${k}`)!;
      expect(after.uid).not.toBe('pod-2.ns:8080');
      if (before.uid === 'pod-2.ns:8080') continue;
      movable++;
      if (after.uid === before.uid) kept++;
    }
    // Ring hash keeps every key of a surviving endpoint; Maglev nearly all (the paper's "minimal disruption").
    expect(kept / movable).toBeGreaterThan(kind === 'RING_HASH' ? 0.999 : 0.9);
  });

  it('walks to another endpoint for excluded (already tried) ones, deterministically', () => {
    const eps = make(5);
    const lb = build();
    const first = lb.pick(eps, 'alice')!;
    const second = lb.pick(eps, 'alice', new Set([first.uid]))!;
    expect(second.uid).not.toBe(first.uid);
    expect(lb.pick(eps, 'alice', new Set([first.uid]))!.uid).toBe(second.uid);
    expect(lb.pick(eps, 'alice', new Set(eps.map((e) => e.uid)))!.uid).toBe(first.uid);
  });

  it('picks at random without a hash key, and nothing from an empty set', () => {
    const eps = make(3);
    let i = 0;
    const seq = [0.1, 0.5, 0.9];
    const lb = new ConsistentHashBalancer(kind as 'RING_HASH' | 'MAGLEV', kind === 'MAGLEV' ? 251 : 64, () => seq[i++ % 3]);
    expect([1, 2, 3].map(() => lb.pick(eps, undefined)!.uid)).toEqual(eps.map((e) => e.uid));
    expect(lb.pick([], 'x')).toBeUndefined();
  });

  it('caches one table per endpoint set, whatever the array order', () => {
    const eps = make(4);
    const lb = new ConsistentHashBalancer(kind as 'RING_HASH' | 'MAGLEV', kind === 'MAGLEV' ? 65537 : 1024, Math.random);
    lb.pick(eps, 'k');
    lb.pick([...eps].reverse(), 'k');
    lb.pick(eps.slice(1), 'k');
    expect(lb.cachedTables).toBe(2);
    for (let s = 0; s < 20; s++) lb.pick(make(5 + s), 'k');
    expect(lb.cachedTables).toBe(8);
  });
});

describe('hash tables', () => {
  it('ring hash has at least the minimum ring size, a power of two per endpoint', () => {
    const uids = ['a', 'b', 'c'];
    expect(new RingHashTable(uids, 1024).size).toBe(3 * 512);
    expect(new RingHashTable(uids, 0).size).toBe(3 * 512); // default 1024
    expect(new RingHashTable(uids, 2).size).toBe(3);
    expect(new RingHashTable(['a', 'b', 'c', 'd'], 1024).size).toBe(1024);
  });

  it('maglev fills every slot and gives each endpoint M/n slots (±1)', () => {
    const uids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const t = new MaglevTable(uids, 65537);
    const counts = new Array<number>(uids.length).fill(0);
    for (let s = 0; s < 65537; s++) counts[t.lookup(s)!]++;
    for (const c of counts) expect(Math.abs(c - 65537 / 7)).toBeLessThanOrEqual(1);
  });

  it('checks primes', () => {
    expect([2, 3, 251, 65537, 5000011].every(isPrime)).toBe(true);
    expect([0, 1, 4, 1000, 65536, 2.5].some(isPrime)).toBe(false);
  });

  it('hash53 is a deterministic 53-bit integer that avalanches', () => {
    expect(hash53('abc')).toBe(hash53('abc'));
    expect(hash53('abc', 1)).not.toBe(hash53('abc'));
    let bits = 0;
    for (let i = 0; i < 1000; i++) {
      const h = hash53(`k${i}`);
      expect(Number.isSafeInteger(h) && h >= 0).toBe(true);
      const x = (h ^ hash53(`k${i + 1}`)) >>> 0;
      bits += x.toString(2).split('1').length - 1;
    }
    expect(bits / 1000).toBeGreaterThan(14); // ~16 of the low 32 bits flip per one-character change
    expect(bits / 1000).toBeLessThan(18);
  });
});
