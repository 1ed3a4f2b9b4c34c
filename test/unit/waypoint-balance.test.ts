import { createLoadBalancer } from '../../waypoint/balance/load-balancer';
import type { LoadBalancer__Output } from '../../common/proto/generated/ambit/v1/LoadBalancer';
import { WaypointErrorCodes } from '../../waypoint/errors';

/** xorshift32: a deterministic stand-in for Math.random. */
function seeded(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const endpoints = ['a', 'b', 'c', 'd'].map((uid, i) => ({ uid, address: `10.0.0.${i + 1}`, port: 8080, zone: 'z1' }));
const simple = (s: LoadBalancer__Output['simple']): LoadBalancer__Output => ({ simple: s, consistentHash: null });

function tally(picks: Array<{ uid: string } | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of picks) if (p !== undefined) out[p.uid] = (out[p.uid] ?? 0) + 1;
  return out;
}

describe('waypoint load balancers', () => {
  it('uses round robin when nothing or LB_UNSPECIFIED is configured', () => {
    expect(createLoadBalancer(null).kind).toBe('ROUND_ROBIN');
    expect(createLoadBalancer(simple('LB_UNSPECIFIED')).kind).toBe('ROUND_ROBIN');
    expect(createLoadBalancer(simple('PASSTHROUGH')).kind).toBe('PASSTHROUGH');
  });

  it('ROUND_ROBIN spreads picks exactly evenly, in order, and returns the caller\'s objects', () => {
    const lb = createLoadBalancer(simple('ROUND_ROBIN'), seeded(7));
    const picks = Array.from({ length: 400 }, () => lb.pick(endpoints, undefined));
    expect(tally(picks)).toEqual({ a: 100, b: 100, c: 100, d: 100 });
    const first = endpoints.indexOf(picks[0]!);
    expect(picks.slice(0, 8).map((p) => p!.uid)).toEqual(Array.from({ length: 8 }, (_, i) => endpoints[(first + i) % 4].uid));
    expect(picks[0]!.zone).toBe('z1');
  });

  it('ROUND_ROBIN steps over excluded endpoints and ignores an exclusion of all of them', () => {
    const lb = createLoadBalancer(simple('ROUND_ROBIN'), () => 0);
    const skip = new Set(['b', 'c']);
    expect([1, 2, 3, 4].map(() => lb.pick(endpoints, undefined, skip)!.uid)).toEqual(['a', 'd', 'a', 'd']);
    expect(lb.pick(endpoints, undefined, new Set(['a', 'b', 'c', 'd']))).toBeDefined();
    expect(lb.pick([], undefined)).toBeUndefined();
  });

  it('LEAST_REQUEST prefers the less loaded endpoint of its two choices', () => {
    const lb = createLoadBalancer(simple('LEAST_REQUEST'), seeded(42));
    expect(lb.kind).toBe('LEAST_REQUEST');
    for (let i = 0; i < 10; i++) lb.started('a');
    for (let i = 0; i < 10; i++) lb.started('b');
    for (let i = 0; i < 10; i++) lb.started('c');
    const picks = tally(Array.from({ length: 1000 }, () => lb.pick(endpoints, undefined)));
    // d wins every pair it is sampled into: 3 of the 6 pairs, half the picks; a, b, c share the rest.
    expect(picks.d).toBeGreaterThan(400);
    expect(picks.d).toBeGreaterThan(2 * Math.max(picks.a ?? 0, picks.b ?? 0, picks.c ?? 0));
  });

  it('LEAST_REQUEST follows load as requests start and finish', () => {
    const lb = createLoadBalancer(simple('LEAST_REQUEST'), seeded(3));
    const two = endpoints.slice(0, 2);
    // With two endpoints both are always sampled, so the idler one always wins: they alternate.
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const e = lb.pick(two, undefined)!;
      lb.started(e.uid);
      seen.push(e.uid);
    }
    expect(tally(seen.map((uid) => ({ uid })))).toEqual({ a: 10, b: 10 });
    lb.finished('a');
    lb.finished('a');
    lb.finished('a');
    expect(lb.pick(two, undefined)!.uid).toBe('a');
    for (let i = 0; i < 50; i++) lb.finished('a'); // never below zero
    for (let i = 0; i < 11; i++) lb.started('a');
    expect(lb.pick(two, undefined)!.uid).toBe('b');
  });

  it('LEAST_REQUEST and RANDOM honour exclude', () => {
    for (const kind of ['LEAST_REQUEST', 'RANDOM'] as const) {
      const lb = createLoadBalancer(simple(kind), seeded(11));
      const skip = new Set(['a', 'b', 'c']);
      for (let i = 0; i < 20; i++) expect(lb.pick(endpoints, undefined, skip)!.uid).toBe('d');
    }
  });

  it('RANDOM covers all endpoints roughly evenly', () => {
    const lb = createLoadBalancer(simple('RANDOM'), seeded(5));
    const picks = tally(Array.from({ length: 4000 }, () => lb.pick(endpoints, undefined)));
    for (const e of endpoints) expect(picks[e.uid]).toBeGreaterThan(800);
  });

  it('rejects a Maglev table size that is not prime', () => {
    const lb = (maglevTableSize: number): LoadBalancer__Output => ({
      simple: 'LB_UNSPECIFIED',
      consistentHash: { useSourceIp: true, hashKey: 'useSourceIp', maglevTableSize, algorithm: 'maglevTableSize' },
    });
    expect(() => createLoadBalancer(lb(1000))).toThrow(expect.objectContaining({ code: WaypointErrorCodes.INVALID_BACKEND }));
    expect(createLoadBalancer(lb(251)).kind).toBe('MAGLEV');
    expect(createLoadBalancer(lb(0)).kind).toBe('MAGLEV');
  });
});
