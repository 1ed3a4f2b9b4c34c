import { backoffDelayMs, maxAttempts, maxRetries, retryableOutcome, RetryBudget } from '../../waypoint/resilience/retry-policy';
import type { RouteRetry__Output } from '../../common/proto/generated/ambit/v1/RouteRetry';

const policy = (codes: number[], attempts = 3, backoffMs = 0): RouteRetry__Output => ({ codes, attempts, backoffMs });

describe('retry policy (GEP-1731 as Istio applies it)', () => {
  it('retries connect failures, resets and gRPC UNAVAILABLE/CANCELLED with or without a policy', () => {
    for (const p of [null, policy([500])]) {
      expect(retryableOutcome(p, { connectFailure: true })).toBe(true);
      expect(retryableOutcome(p, { reset: true })).toBe(true);
      expect(retryableOutcome(p, { status: 200, grpcStatus: 14 })).toBe(true);
      expect(retryableOutcome(p, { status: 200, grpcStatus: 1 })).toBe(true);
      expect(retryableOutcome(p, { status: 200, grpcStatus: 13 })).toBe(false);
      expect(retryableOutcome(p, { status: 200 })).toBe(false);
    }
  });

  it('retries the listed codes only; 503 by default; a 4xx only when listed', () => {
    expect(retryableOutcome(null, { status: 503 })).toBe(true);
    expect(retryableOutcome(null, { status: 500 })).toBe(false);
    expect(retryableOutcome(policy([]), { status: 503 })).toBe(true);
    expect(retryableOutcome(policy([500, 502]), { status: 500 })).toBe(true);
    expect(retryableOutcome(policy([500, 502]), { status: 503 })).toBe(false);
    expect(retryableOutcome(policy([500]), { status: 429 })).toBe(false);
    expect(retryableOutcome(policy([429]), { status: 429 })).toBe(true);
  });

  it('retries a per-try timeout when 504 is listed', () => {
    expect(retryableOutcome(policy([504]), { timeout: true })).toBe(true);
    expect(retryableOutcome(policy([503]), { timeout: true })).toBe(false);
    expect(retryableOutcome(null, { timeout: true })).toBe(false);
  });

  it('attempts are retries after the first try; Istio default 2', () => {
    expect(maxRetries(null)).toBe(2);
    expect(maxAttempts(null)).toBe(3);
    expect(maxRetries(policy([503], 4))).toBe(4);
    expect(maxAttempts(policy([503], 4))).toBe(5);
    expect(maxAttempts(policy([503], 0))).toBe(1);
  });

  it('backs off with full jitter, exponentially, capped at 10 × base (Envoy)', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelayMs(n, 25, top))).toEqual([24, 74, 174, 249, 249, 249]);
    expect(backoffDelayMs(1, 0, top)).toBe(24); // 0 = Envoy's 25 ms base
    expect(backoffDelayMs(3, 100, () => 0)).toBe(0);
    expect(backoffDelayMs(2, 100, () => 0.5)).toBe(150);
  });
});

describe('retry budget', () => {
  it('allows max(minRetryConcurrency, budgetPercent of active requests) retries at once', () => {
    const b = new RetryBudget({ budgetPercent: 20, minRetryConcurrency: 3 });
    for (let i = 0; i < 10; i++) b.onRequestStart();
    const held = [b.tryRetry(), b.tryRetry(), b.tryRetry()];
    expect(held.every((r) => r !== undefined)).toBe(true);
    expect(b.tryRetry()).toBeUndefined(); // 20 % of 10 = 2 < floor of 3
    for (let i = 0; i < 20; i++) b.onRequestStart(); // 30 active: 6 allowed
    const more = [b.tryRetry(), b.tryRetry(), b.tryRetry()];
    expect(more.every((r) => r !== undefined)).toBe(true);
    expect(b.tryRetry()).toBeUndefined();
    held[0]!();
    held[0]!(); // idempotent
    expect(b.stats()).toEqual({ activeRequests: 30, activeRetries: 5 });
    expect(b.tryRetry()).toBeDefined();
    expect(b.tryRetry()).toBeUndefined();
  });

  it('uses Envoy defaults (20 %, 3) for zero fields, and is unlimited without budget or maxRetries', () => {
    const b = new RetryBudget({ budgetPercent: 0, minRetryConcurrency: 0 });
    for (let i = 0; i < 100; i++) b.onRequestStart();
    expect(b.limit()).toBe(20);
    for (let i = 0; i < 200; i++) b.onRequestEnd();
    expect(b.limit()).toBe(3);
    expect(new RetryBudget(null).limit()).toBe(Infinity);
    expect(new RetryBudget(null, 2).limit()).toBe(2); // connectionPool.http.maxRetries
  });
});
