// waypoint/routing/backend-choice.ts: weighted backend choice (Gateway API backendRefs[].weight).
import type { BackendRef__Output } from '../../common/proto/generated/ambit/v1/BackendRef';
import type { RouteRule__Output } from '../../common/proto/generated/ambit/v1/RouteRule';
import { isUsableBackend, pickBackend } from '../../waypoint/routing/backend-choice';

/** mulberry32: a tiny seeded PRNG, so the statistics are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const b = (name: string, weight: number, hostname = `${name}.default.svc.cluster.local`): BackendRef__Output => ({
  serviceHostname: hostname,
  serviceName: name,
  serviceNamespace: 'default',
  port: 80,
  weight,
  filters: [],
});

const rule = (backendRefs: BackendRef__Output[]): RouteRule__Output => ({ name: '', matches: [], filters: [], backendRefs, timeouts: null, retry: null });

function shares(r: RouteRule__Output, n: number, seed: number): Map<string, number> {
  const random = seeded(seed);
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const pick = pickBackend(r, random);
    const key = pick === undefined ? 'none' : pick.serviceName;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return new Map([...counts].map(([k, v]) => [k, (100 * v) / n]));
}

describe('pickBackend', () => {
  it('splits 90/10 within ±1.5 points over 20000 picks', () => {
    for (const seed of [1, 42, 20240601]) {
      const s = shares(rule([b('v1', 90), b('v2', 10)]), 20000, seed);
      expect(Math.abs((s.get('v1') ?? 0) - 90)).toBeLessThanOrEqual(1.5);
      expect(Math.abs((s.get('v2') ?? 0) - 10)).toBeLessThanOrEqual(1.5);
    }
  });

  it('splits three ways by weight and never picks a weight-0 backend', () => {
    const s = shares(rule([b('a', 1), b('off', 0), b('b', 2), b('c', 1)]), 20000, 7);
    expect(s.get('off')).toBeUndefined();
    expect(Math.abs((s.get('a') ?? 0) - 25)).toBeLessThanOrEqual(1.5);
    expect(Math.abs((s.get('b') ?? 0) - 50)).toBeLessThanOrEqual(1.5);
    expect(Math.abs((s.get('c') ?? 0) - 25)).toBeLessThanOrEqual(1.5);
  });

  it('maps the ends of the random range to the first and last backends', () => {
    const r = rule([b('first', 1), b('mid', 0), b('last', 1)]);
    expect(pickBackend(r, () => 0)?.serviceName).toBe('first');
    expect(pickBackend(r, () => 0.4999)?.serviceName).toBe('first');
    expect(pickBackend(r, () => 0.5)?.serviceName).toBe('last');
    expect(pickBackend(r, () => 0.9999999999999999)?.serviceName).toBe('last');
  });

  it('returns undefined when there is no backend or every weight is 0 (the waypoint answers 500)', () => {
    expect(pickBackend(rule([]))).toBeUndefined();
    expect(pickBackend(rule([b('a', 0), b('b', 0)]))).toBeUndefined();
  });

  it('returns an invalid backend in its share; isUsableBackend tells it apart', () => {
    const invalid = b('not-a-service', 1, '');
    const s = shares(rule([b('ok', 1), invalid]), 10000, 3);
    expect(Math.abs((s.get('not-a-service') ?? 0) - 50)).toBeLessThanOrEqual(2);
    expect(isUsableBackend(invalid)).toBe(false);
    expect(isUsableBackend(b('ok', 1))).toBe(true);
  });
});
