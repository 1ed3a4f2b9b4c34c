/**
 * HTTP/2 rapid-reset protection (CVE-2023-44487): a client that opens streams and cancels them
 * before they are answered makes the server do work for nothing, at no cost to itself. Each
 * session counts such resets in one-second windows; over the limit, the session is told
 * ENHANCE_YOUR_CALM and closed (what nghttp2, Envoy and ztunnel's h2 do in spirit).
 */

export class ResetRateLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private count = 0;

  constructor(
    /** Resets tolerated per second; one more trips the limiter. */
    readonly maxPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Counts one reset; true when this one exceeds the limit of the current second. */
  hit(): boolean {
    const t = this.now();
    if (t - this.windowStart >= 1000) {
      this.windowStart = t;
      this.count = 0;
    }
    this.count++;
    return this.count > this.maxPerSecond;
  }
}
