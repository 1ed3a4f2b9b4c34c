/**
 * Exponential back-off with full jitter (as client-go's rate-limited retries): each consecutive
 * failure doubles the ceiling from `initialMs` up to `maxMs`, the delay is drawn below it so
 * many replicas do not retry in step, and a success resets it.
 */

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

export class RetryBackoff {
  private failures = 0;
  readonly initialMs: number;
  readonly maxMs: number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 200;
    this.maxMs = opts.maxMs ?? 30_000;
  }

  get attempts(): number {
    return this.failures;
  }

  /** The delay before the next try, counting this failure. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    // Never below half the ceiling: a jittered delay of ~0 would be no back-off at all.
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  reset(): void {
    this.failures = 0;
  }
}
