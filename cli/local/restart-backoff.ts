// Restart back-off for crashed containers, shaped like the kubelet's CrashLoopBackOff but scaled
// for a demo on one machine: the kubelet waits 10 s doubling to 5 min and forgets a container's
// crashes once it has run for 10 min (twice the cap); we wait 1 s doubling to 30 s and forget after
// 60 s of running (again twice the cap). So a crash loop costs at most one restart per 30 s, and a
// container that crashes once an hour restarts after 1 s every time.

export interface BackoffPolicy {
  /** Delay before the first restart. */
  baseMs: number;
  /** The delay doubles per consecutive crash up to this. */
  maxMs: number;
  /** A container that ran at least this long before exiting starts again from baseMs. */
  resetAfterMs: number;
}

export const RESTART_BACKOFF: BackoffPolicy = Object.freeze({ baseMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 });

/** The back-off of one container. */
export class RestartBackoff {
  /** Consecutive short-lived runs so far. */
  private streak = 0;

  constructor(private readonly policy: BackoffPolicy = RESTART_BACKOFF) {}

  /** The delay before restarting a container that exited after running `ranForMs`. */
  next(ranForMs: number): number {
    if (ranForMs >= this.policy.resetAfterMs) this.streak = 0;
    // 2 ** streak overflows nothing: the exponent is capped once the delay reaches maxMs.
    const delay = Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(this.streak, 30));
    this.streak++;
    return delay;
  }
}
