/**
 * How many retries may be in flight at once for one destination: Envoy's retry budget (Ambit
 * annotation ambit.dev/retry-budget) and/or the max_retries circuit breaker (DestinationRule
 * connectionPool.http.maxRetries). A retry that does not fit is not made; the request ends with the
 * failure it had (Envoy counts upstream_rq_retry_overflow). This keeps retries from multiplying load
 * on a backend that is already failing.
 *
 * Budget: retries < max(minRetryConcurrency, budgetPercent % of active requests), Envoy's defaults
 * 20 % and 3 when a budget is configured with zero fields. No budget and no maxRetries (0) =
 * unlimited, Istio's 2^32-1.
 */
import type { RetryBudget__Output } from '../../common/proto/generated/ambit/v1/RetryBudget';

export const DEFAULT_BUDGET_PERCENT = 20;
export const DEFAULT_MIN_RETRY_CONCURRENCY = 3;

export class RetryBudget {
  private readonly percent: number | undefined;
  private readonly minConcurrency: number;
  private readonly cap: number;
  private activeRequests = 0;
  private activeRetries = 0;

  constructor(b: RetryBudget__Output | null, maxRetries = 0) {
    this.percent = b === null ? undefined : b.budgetPercent > 0 ? Math.min(b.budgetPercent, 100) : DEFAULT_BUDGET_PERCENT;
    this.minConcurrency = b === null ? 0 : b.minRetryConcurrency > 0 ? b.minRetryConcurrency : DEFAULT_MIN_RETRY_CONCURRENCY;
    this.cap = maxRetries > 0 ? maxRetries : Infinity;
  }

  /** A request to the destination started / ended (pair them). */
  onRequestStart(): void {
    this.activeRequests++;
  }

  onRequestEnd(): void {
    if (this.activeRequests > 0) this.activeRequests--;
  }

  /** The most retries allowed in flight right now. */
  limit(): number {
    const budget = this.percent === undefined ? Infinity : Math.max(this.minConcurrency, Math.floor((this.percent * this.activeRequests) / 100));
    return Math.min(budget, this.cap);
  }

  /** Reserves a retry: its release function (idempotent; call when the retry ends), or undefined = over budget. */
  tryRetry(): (() => void) | undefined {
    if (this.activeRetries >= this.limit()) return undefined;
    this.activeRetries++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.activeRetries--;
    };
  }

  stats(): { activeRequests: number; activeRetries: number } {
    return { activeRequests: this.activeRequests, activeRetries: this.activeRetries };
  }
}
