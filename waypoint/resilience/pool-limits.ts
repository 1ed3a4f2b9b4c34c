/**
 * DestinationRule connectionPool as Envoy's circuit breakers enforce it for one destination.
 *
 * The waypoint speaks HTTP/1.1 or HTTP/2 upstream through HBONE; either way what the limits bound is
 * concurrent requests: tcp.maxConnections (Envoy max_connections: with HTTP/1.1 one request per
 * connection) and http.http2MaxRequests (max_requests). The lower configured one is the cap; 0 means
 * unlimited, because Istio sets every threshold it is not given to 2^32-1 instead of Envoy's 1024.
 * Requests over the cap wait FIFO in a queue of http.http1MaxPendingRequests (max_pending_requests;
 * 0 = unlimited, same reason); a request that finds the queue full overflows at once: the caller
 * answers 503 with response flag UO (AMBIT_ERR_UPSTREAM_OVERFLOW).
 */
import type { ConnectionPool__Output } from '../../common/proto/generated/ambit/v1/ConnectionPool';

export type Release = () => void;

interface Waiter {
  resolve(release: Release): void;
  reject(reason: unknown): void;
}

export class PoolLimiter {
  readonly maxActive: number;
  readonly maxPending: number;
  private active = 0;
  private readonly queue: Waiter[] = [];
  private head = 0;

  constructor(cfg: ConnectionPool__Output | null) {
    const caps = [cfg?.tcp?.maxConnections ?? 0, cfg?.http?.http2MaxRequests ?? 0].filter((n) => n > 0);
    this.maxActive = caps.length === 0 ? Infinity : Math.min(...caps);
    const pending = cfg?.http?.http1MaxPendingRequests ?? 0;
    this.maxPending = pending > 0 ? pending : Infinity;
  }

  /**
   * A slot for one request: resolves with its release function (call it when the request is done;
   * calling it again does nothing), at once when under the cap, else when an earlier request
   * releases. Undefined = overflow (cap reached and queue full). When `signal` aborts while the
   * request waits (client gone, request timeout), it leaves the queue and the promise rejects with
   * the signal's reason; it then holds no slot.
   */
  acquire(signal?: AbortSignal): Promise<Release> | undefined {
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    if (this.active < this.maxActive) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.pendingCount() >= this.maxPending) return undefined;
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      this.queue.push(waiter);
      if (signal === undefined) return;
      const onAbort = (): void => {
        const i = this.queue.indexOf(waiter, this.head);
        if (i === -1) return;
        this.queue.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      // Granted before aborting: stop listening so the waiter is not retained by the signal.
      waiter.resolve = (release) => {
        signal.removeEventListener('abort', onAbort);
        resolve(release);
      };
    });
  }

  stats(): { active: number; pending: number } {
    return { active: this.active, pending: this.pendingCount() };
  }

  private pendingCount(): number {
    return this.queue.length - this.head;
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.grant();
    };
  }

  /** Hands freed slots to waiters in arrival order. */
  private grant(): void {
    while (this.active < this.maxActive && this.head < this.queue.length) {
      const w = this.queue[this.head++];
      this.active++;
      w.resolve(this.releaser());
    }
    // Compact the consumed prefix now and then, keeping shift() out of the hot path.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
  }
}
