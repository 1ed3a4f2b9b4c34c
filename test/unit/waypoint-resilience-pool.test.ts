import { PoolLimiter } from '../../waypoint/resilience/pool-limits';
import type { ConnectionPool__Output } from '../../common/proto/generated/ambit/v1/ConnectionPool';

const pool = (maxConnections: number, http2MaxRequests: number, http1MaxPendingRequests: number): ConnectionPool__Output => ({
  tcp: { maxConnections, connectTimeoutMs: 0 },
  http: { http1MaxPendingRequests, http2MaxRequests, maxRequestsPerConnection: 0, maxRetries: 0, idleTimeoutMs: 0 },
});

describe('connection pool limits', () => {
  it('is unlimited without limits (Istio sets 2^32-1)', async () => {
    const p = new PoolLimiter(null);
    const releases = await Promise.all(Array.from({ length: 5000 }, () => p.acquire()!));
    expect(p.stats()).toEqual({ active: 5000, pending: 0 });
    releases.forEach((r) => r());
    expect(p.stats()).toEqual({ active: 0, pending: 0 });
  });

  it('caps at the lower of maxConnections and http2MaxRequests, queues FIFO, then overflows', async () => {
    const p = new PoolLimiter(pool(5, 2, 2));
    expect(p.maxActive).toBe(2);
    const r1 = await p.acquire()!;
    const r2 = await p.acquire()!;
    const order: string[] = [];
    const w1 = p.acquire()!.then((r) => (order.push('w1'), r));
    const w2 = p.acquire()!.then((r) => (order.push('w2'), r));
    expect(p.acquire()).toBeUndefined(); // overflow: 503 UO
    expect(p.stats()).toEqual({ active: 2, pending: 2 });
    r2();
    r2(); // idempotent: frees one slot only
    const g1 = await w1;
    expect(order).toEqual(['w1']);
    expect(p.stats()).toEqual({ active: 2, pending: 1 });
    r1();
    const g2 = await w2;
    expect(order).toEqual(['w1', 'w2']);
    g1();
    g2();
    expect(p.stats()).toEqual({ active: 0, pending: 0 });
    expect(new PoolLimiter(pool(3, 0, 0)).maxActive).toBe(3);
    expect(new PoolLimiter(pool(0, 0, 0)).maxPending).toBe(Infinity);
  });

  it('a waiter that aborts leaves the queue and holds no slot', async () => {
    const p = new PoolLimiter(pool(1, 0, 5));
    const r = await p.acquire()!;
    const ac = new AbortController();
    const gone = p.acquire(ac.signal)!;
    const next = p.acquire()!;
    ac.abort(new Error('client went away'));
    await expect(gone).rejects.toThrow('client went away');
    expect(p.stats()).toEqual({ active: 1, pending: 1 });
    r();
    const rn = await next;
    expect(p.stats()).toEqual({ active: 1, pending: 0 });
    rn();
    await expect(p.acquire(ac.signal)).rejects.toThrow('client went away');
    expect(p.stats()).toEqual({ active: 0, pending: 0 });
  });
});
