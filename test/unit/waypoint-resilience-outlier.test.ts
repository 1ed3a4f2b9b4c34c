import { OutlierDetector } from '../../waypoint/resilience/outlier-detector';
import type { OutlierDetection__Output } from '../../common/proto/generated/ambit/v1/OutlierDetection';

const cfg = (c: Partial<OutlierDetection__Output> = {}): OutlierDetection__Output => ({
  consecutive_5xxErrors: 5,
  consecutiveGatewayErrors: 0,
  intervalMs: 0,
  baseEjectionTimeMs: 30_000,
  maxEjectionPercent: 100,
  minHealthPercent: 0,
  ...c,
});
const eps = (n: number) => Array.from({ length: n }, (_, i) => ({ uid: `e${i}`, address: `10.0.0.${i}`, port: 80 }));

function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('outlier detection', () => {
  it('ejects after consecutive 5xx, counting connect failures, resets and timeouts', () => {
    const c = clock();
    const d = new OutlierDetector(cfg(), c.now);
    const set = eps(4);
    expect(d.available(set)).toBe(set); // nothing ejected: the same array
    d.record('e0', { status: 500 });
    d.record('e0', { connectFailure: true });
    d.record('e0', { reset: true });
    d.record('e0', { timeout: true });
    expect(d.isEjected('e0')).toBe(false);
    d.record('e0', { status: 503 });
    expect(d.isEjected('e0')).toBe(true);
    expect(d.available(eps(4)).map((e) => e.uid)).toEqual(['e1', 'e2', 'e3']);
    expect(d.ejections()).toEqual([{ uid: 'e0', until: 30_000, times: 1 }]);
  });

  it('a success (or a 4xx) resets the count', () => {
    const d = new OutlierDetector(cfg({ consecutive_5xxErrors: 3 }), clock().now);
    for (const o of [{ status: 500 }, { status: 500 }, { status: 200 }, { status: 500 }, { status: 500 }, { status: 404 }, { status: 500 }, { status: 500 }]) {
      d.record('e0', o);
    }
    expect(d.isEjected('e0')).toBe(false);
    d.record('e0', { status: 502 });
    expect(d.isEjected('e0')).toBe(true);
  });

  it('consecutive gateway errors count only 502/503/504 and failures; another 5xx breaks the run', () => {
    const d = new OutlierDetector(cfg({ consecutive_5xxErrors: 0, consecutiveGatewayErrors: 2 }), clock().now);
    d.record('e0', { status: 502 });
    d.record('e0', { status: 500 });
    d.record('e0', { status: 504 });
    expect(d.isEjected('e0')).toBe(false);
    d.record('e0', { connectFailure: true });
    expect(d.isEjected('e0')).toBe(true);
    // consecutive5xxErrors 0 disables that detector: 500s alone never eject.
    for (let i = 0; i < 50; i++) d.record('e1', { status: 500 });
    expect(d.isEjected('e1')).toBe(false);
  });

  it('ejects for base × times, capped at 300 s, and re-admits lazily', () => {
    const c = clock();
    const d = new OutlierDetector(cfg({ consecutive_5xxErrors: 1, baseEjectionTimeMs: 100_000 }), c.now);
    d.record('e0', { status: 500 });
    expect(d.ejections()[0]).toEqual({ uid: 'e0', until: 100_000, times: 1 });
    c.t = 99_999;
    expect(d.isEjected('e0')).toBe(true);
    c.t = 100_000;
    expect(d.isEjected('e0')).toBe(false);
    d.record('e0', { status: 500 });
    expect(d.ejections()[0]).toEqual({ uid: 'e0', until: 300_000, times: 2 });
    c.t = 300_000;
    d.record('e0', { status: 500 });
    expect(d.ejections()[0]).toEqual({ uid: 'e0', until: 600_000, times: 3 }); // 300 s cap, not 300 s × 3
  });

  it('un-ejection is noticed at the next interval tick, and the multiplier decays while healthy', () => {
    const c = clock(1_000);
    const d = new OutlierDetector(cfg({ consecutive_5xxErrors: 1, baseEjectionTimeMs: 30_000, intervalMs: 10_000 }), c.now);
    c.t = 4_000;
    d.record('e0', { status: 500 });
    expect(d.ejections()).toEqual([{ uid: 'e0', until: 41_000, times: 1 }]); // 34 s rounds up to the 41 s sweep
    c.t = 40_999;
    expect(d.isEjected('e0')).toBe(true);
    c.t = 41_000;
    expect(d.isEjected('e0')).toBe(false);
    d.record('e0', { status: 500 }); // right away: ejected twice in a row
    expect(d.ejections()[0].times).toBe(2);
    c.t = 101_000 + 25_000; // back at 101 s, then healthy for 2.5 intervals: multiplier 2 -> 0
    expect(d.isEjected('e0')).toBe(false);
    d.record('e0', { status: 500 });
    expect(d.ejections()[0].times).toBe(1);
  });

  it('maxEjectionPercent limits concurrent ejections but always allows one (Envoy)', () => {
    const d = new OutlierDetector(cfg({ consecutive_5xxErrors: 1, maxEjectionPercent: 10 }), clock().now);
    d.available(eps(15));
    for (let i = 0; i < 5; i++) d.record(`e${i}`, { status: 500 });
    // 0 ejected -> eject; 1/15 = 6.7 % < 10 -> eject; 2/15 = 13 % -> stop.
    expect(d.ejections().map((e) => e.uid)).toEqual(['e0', 'e1']);

    const solo = new OutlierDetector(cfg({ consecutive_5xxErrors: 1, maxEjectionPercent: 10 }), clock().now);
    solo.available(eps(1));
    solo.record('e0', { status: 503 });
    expect(solo.available(eps(1))).toEqual([]); // Istio: 503 UH until it returns, unless minHealthPercent
  });

  it('minHealthPercent: below it, ejections are ignored (panic routing)', () => {
    const d = new OutlierDetector(cfg({ consecutive_5xxErrors: 1, minHealthPercent: 50 }), clock().now);
    d.available(eps(4));
    d.record('e0', { status: 500 });
    d.record('e1', { status: 500 });
    expect(d.available(eps(4)).map((e) => e.uid)).toEqual(['e2', 'e3']); // 50 % healthy: not below
    d.record('e2', { status: 500 });
    const all = eps(4);
    expect(d.available(all)).toBe(all);
  });

  it('responses from an ejected endpoint do not extend its ejection', () => {
    const c = clock();
    const d = new OutlierDetector(cfg({ consecutive_5xxErrors: 1, baseEjectionTimeMs: 0 }), c.now);
    d.record('e0', { status: 500 });
    c.t = 10_000;
    d.record('e0', { status: 500 });
    expect(d.ejections()).toEqual([{ uid: 'e0', until: 30_000, times: 1 }]); // 0 = Envoy's 30 s
  });
});
