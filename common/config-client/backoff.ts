/**
 * Jittered exponential backoff for reconnects. Jitter spreads a fleet of agents that lost the
 * control plane at the same moment, so they do not all come back in the same millisecond.
 */
import { AmbitError, ErrorCodes } from '../errors';

export interface BackoffOptions {
  /** First delay; default 250 ms. */
  initialMs?: number;
  /** Cap; default 30 s. */
  maxMs?: number;
  /** Growth per attempt; default 2. */
  multiplier?: number;
  /** +/- share of the delay drawn at random, 0..1; default 0.5. */
  jitter?: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly multiplier: number;
  private readonly jitter: number;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.initialMs = opts.initialMs ?? 250;
    this.maxMs = opts.maxMs ?? 30_000;
    this.multiplier = opts.multiplier ?? 2;
    this.jitter = opts.jitter ?? 0.5;
    const bad = (what: string): never => {
      throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `backoff ${what}`);
    };
    if (!(this.initialMs > 0)) bad(`initialMs=${this.initialMs} must be > 0`);
    if (!(this.maxMs >= this.initialMs)) bad(`maxMs=${this.maxMs} must be >= initialMs=${this.initialMs}`);
    if (!(this.multiplier >= 1)) bad(`multiplier=${this.multiplier} must be >= 1`);
    if (!(this.jitter >= 0 && this.jitter <= 1)) bad(`jitter=${this.jitter} must be within 0..1`);
  }

  /** The delay before the next attempt; grows until reset(). */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.multiplier ** this.attempt);
    this.attempt++;
    const spread = base * this.jitter * (2 * this.random() - 1);
    return Math.max(0, Math.min(this.maxMs, Math.round(base + spread)));
  }

  /** After a working connection: start again from initialMs. */
  reset(): void {
    this.attempt = 0;
  }
}
