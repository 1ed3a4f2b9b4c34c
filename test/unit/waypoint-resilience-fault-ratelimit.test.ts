import { faultDecision } from '../../waypoint/resilience/fault';
import { TokenBucket } from '../../waypoint/resilience/token-bucket';
import type { FaultInjection__Output } from '../../common/proto/generated/ambit/v1/FaultInjection';

const fault = (f: Partial<FaultInjection__Output>): FaultInjection__Output => ({
  delayPercent: 0, fixedDelayMs: 0, abortPercent: 0, abortHttpStatus: 0, abortGrpcStatus: 0, ...f,
});

function seeded(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('fault injection', () => {
  it('does nothing without a fault or at 0 %', () => {
    expect(faultDecision(null)).toEqual({});
    expect(faultDecision(undefined)).toEqual({});
    expect(faultDecision(fault({ fixedDelayMs: 100, abortHttpStatus: 500 }))).toEqual({});
  });

  it('injects at 100 % and draws delay and abort independently', () => {
    expect(faultDecision(fault({ delayPercent: 100, fixedDelayMs: 250, abortPercent: 100, abortHttpStatus: 503 }))).toEqual({ delayMs: 250, abort: { httpStatus: 503 } });
    const draws = [0.2, 0.7];
    const d = faultDecision(fault({ delayPercent: 50, fixedDelayMs: 10, abortPercent: 50, abortHttpStatus: 500 }), () => draws.shift()!);
    expect(d).toEqual({ delayMs: 10 });
  });

  it('hits about the configured share, fractions included', () => {
    const rnd = seeded(9);
    const f = fault({ delayPercent: 25, fixedDelayMs: 5, abortPercent: 0.5, abortGrpcStatus: 14 });
    let delays = 0;
    let aborts = 0;
    for (let i = 0; i < 20_000; i++) {
      const d = faultDecision(f, rnd);
      if (d.delayMs !== undefined) delays++;
      if (d.abort !== undefined) {
        aborts++;
        expect(d.abort).toEqual({ grpcStatus: 14 });
      }
    }
    expect(delays / 20_000).toBeCloseTo(0.25, 1);
    expect(aborts).toBeGreaterThan(50);
    expect(aborts).toBeLessThan(150);
  });
});

describe('local rate limit token bucket', () => {
  it('starts full, refills per interval up to the maximum, and says when to retry', () => {
    const c = { t: 0 };
    const b = new TokenBucket({ maxTokens: 3, tokensPerFill: 2, fillIntervalMs: 1_500 }, () => c.t);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    expect(b.retryAfterSeconds()).toBe(2);
    c.t = 1_499;
    expect(b.take()).toBe(false);
    expect(b.retryAfterSeconds()).toBe(1);
    c.t = 1_500;
    expect(b.retryAfterSeconds()).toBe(0);
    expect([b.take(), b.take(), b.take()]).toEqual([true, true, false]);
    c.t = 60_000; // many intervals later: full, not more
    expect(b.available()).toBe(3);
    // refills stay on the interval grid: the next one is at 61 500
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    c.t = 61_499;
    expect(b.take()).toBe(false);
    c.t = 61_500;
    expect(b.take()).toBe(true);
  });

  it('treats tokensPerFill 0 as 1 and rejects an unusable configuration', () => {
    const c = { t: 0 };
    const b = new TokenBucket({ maxTokens: 2, tokensPerFill: 0, fillIntervalMs: 100 }, () => c.t);
    b.take();
    b.take();
    c.t = 250;
    expect(b.available()).toBe(2);
    expect(() => new TokenBucket({ maxTokens: 0, tokensPerFill: 1, fillIntervalMs: 100 })).toThrow(RangeError);
    expect(() => new TokenBucket({ maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 0 })).toThrow(RangeError);
  });
});
