/**
 * A token bucket with Envoy local_ratelimit semantics: it starts full (maxTokens), and every
 * fillIntervalMs adds tokensPerFill up to maxTokens, in whole steps on the interval grid since
 * creation (Envoy refills on a timer, not continuously). A request takes one token or is refused
 * (429, response flag RL). Time comes from the injected clock, so no timer runs.
 */
export interface TokenBucketConfig {
  readonly maxTokens: number;
  /** 0 = 1, Envoy's default tokens_per_fill. */
  readonly tokensPerFill: number;
  readonly fillIntervalMs: number;
}

export class TokenBucket {
  private tokens: number;
  private lastFill: number;
  private readonly perFill: number;

  constructor(private readonly cfg: TokenBucketConfig, private readonly now: () => number = Date.now) {
    if (!(cfg.maxTokens >= 1) || !(cfg.fillIntervalMs > 0) || cfg.tokensPerFill < 0) {
      throw new RangeError(
        `token bucket needs maxTokens >= 1 and fillIntervalMs > 0 (got maxTokens ${cfg.maxTokens}, fillIntervalMs ${cfg.fillIntervalMs}, tokensPerFill ${cfg.tokensPerFill})`,
      );
    }
    this.perFill = cfg.tokensPerFill > 0 ? cfg.tokensPerFill : 1;
    this.tokens = cfg.maxTokens;
    this.lastFill = now();
  }

  /** Takes a token if one is left. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  /** Seconds until the next token (for Retry-After), at least 1 when empty; 0 when a token is left. */
  retryAfterSeconds(): number {
    this.refill();
    if (this.tokens >= 1) return 0;
    return Math.max(1, Math.ceil((this.lastFill + this.cfg.fillIntervalMs - this.now()) / 1000));
  }

  /** Tokens left now. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const t = this.now();
    const fills = Math.floor((t - this.lastFill) / this.cfg.fillIntervalMs);
    if (fills <= 0) return;
    this.tokens = Math.min(this.cfg.maxTokens, this.tokens + fills * this.perFill);
    this.lastFill += fills * this.cfg.fillIntervalMs;
  }
}
