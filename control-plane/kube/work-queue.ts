/**
 * A controller work queue (client-go's workqueue, reduced to what one controller needs): keys,
 * not events, so ten changes to a Gateway cause one reconcile; one key is never processed twice
 * at once (re-added while in flight = processed again after); a failed key is retried with its
 * own exponential back-off, reset by its next success, so one broken Gateway never delays others.
 */
import type { Logger } from '../../common/log';
import { ControlPlaneErrorCodes } from '../errors';
import { RetryBackoff, type BackoffOptions } from '../sources/kube/retry-backoff';

export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly retries = new Map<string, { backoff: RetryBackoff; timer?: NodeJS.Timeout }>();
  private draining?: Promise<void>;
  private stopped = true;

  constructor(
    private readonly process: (key: string) => Promise<void>,
    private readonly log: Logger,
    private readonly backoff: BackoffOptions = {},
  ) {}

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Stops taking work and waits for the key in flight; queued keys are dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queued.clear();
    for (const r of this.retries.values()) clearTimeout(r.timer);
    this.retries.clear();
    await this.draining;
  }

  add(key: string): void {
    if (this.stopped) return;
    this.queued.add(key);
    this.kick();
  }

  /** Resolves when nothing is queued or in flight (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private kick(): void {
    if (this.draining !== undefined || this.stopped) return;
    this.draining = (async () => {
      while (!this.stopped) {
        const key = [...this.queued].find((k) => !this.inFlight.has(k));
        if (key === undefined) break;
        this.queued.delete(key);
        this.inFlight.add(key);
        try {
          await this.process(key);
          const r = this.retries.get(key);
          if (r !== undefined && r.timer === undefined) this.retries.delete(key);
        } catch (err) {
          this.retryLater(key, err);
        } finally {
          this.inFlight.delete(key);
        }
      }
    })().finally(() => {
      this.draining = undefined;
      // A key added after the loop's last look (while this promise settled) still needs a run.
      if (this.queued.size > 0) this.kick();
    });
  }

  private retryLater(key: string, err: unknown): void {
    let r = this.retries.get(key);
    if (r === undefined) this.retries.set(key, (r = { backoff: new RetryBackoff(this.backoff) }));
    const delay = r.backoff.next();
    this.log.warn({ key, attempt: r.backoff.attempts, retryInMs: delay, code: ControlPlaneErrorCodes.KUBE_API }, `${(err as Error).message}; retrying in ${delay} ms`);
    clearTimeout(r.timer);
    const entry = r;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.add(key);
    }, delay);
  }
}
