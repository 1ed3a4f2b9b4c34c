/**
 * HTTPRoute rule `retry` (GEP-1731) as Istio turns it into an Envoy retry policy.
 *
 * Retried, with or without a policy (Istio always sets retry_on
 * "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"):
 * - a connect failure (nothing reached the backend, always safe);
 * - a reset before any response. Envoy's refused-stream covers only REFUSED_STREAM resets; Ambit
 *   cannot tell reset kinds apart at this layer and retries all of them, so a non-idempotent request
 *   the backend started may run twice (Envoy's "reset" condition does the same);
 * - gRPC UNAVAILABLE (14) and CANCELLED (1);
 * - a response whose status is in `codes` (retriable-status-codes); no policy, or a policy without
 *   codes, means Istio's default list [503]. A 4xx is retried only when listed.
 * A per-try timeout is retried only when 504 is listed: the caller answers it as 504 and GEP-1731
 * makes the code list the contract (Envoy retries timeouts only under 5xx/gateway-error).
 *
 * `attempts` is, per GEP-1731, the maximum number of retries, not counting the first try. Without a
 * policy Istio's default of 2 retries applies. With a policy, 0 means no retries: the translator
 * should fill 2 for an unset `attempts`, as Istio's conversion does.
 */
import type { RouteRetry__Output } from '../../common/proto/generated/ambit/v1/RouteRetry';
import type { UpstreamOutcome } from './outcome';

export const DEFAULT_RETRIES = 2;
export const DEFAULT_RETRY_CODES: readonly number[] = [503];
/** Envoy's retry_back_off.base_interval default. */
export const DEFAULT_BACKOFF_BASE_MS = 25;

const GRPC_CANCELLED = 1;
const GRPC_UNAVAILABLE = 14;

export function retryableOutcome(policy: RouteRetry__Output | null, outcome: UpstreamOutcome): boolean {
  if (outcome.connectFailure === true || outcome.reset === true) return true;
  if (outcome.grpcStatus === GRPC_UNAVAILABLE || outcome.grpcStatus === GRPC_CANCELLED) return true;
  const codes = policy === null || policy.codes.length === 0 ? DEFAULT_RETRY_CODES : policy.codes;
  if (outcome.timeout === true) return codes.includes(504);
  return outcome.status !== undefined && codes.includes(outcome.status);
}

/** Retries allowed after the first try. */
export function maxRetries(policy: RouteRetry__Output | null): number {
  return policy === null ? DEFAULT_RETRIES : policy.attempts;
}

/** Tries in total: the first one plus maxRetries(policy). */
export function maxAttempts(policy: RouteRetry__Output | null): number {
  return 1 + maxRetries(policy);
}

/**
 * Envoy's fully jittered exponential back-off before retry number `retryNumber` (1 = the first
 * retry): uniform in [0, (2^n - 1) × base), the upper bound capped at Envoy's max_interval default
 * of 10 × base. So with base 25 ms: 0-24, 0-74, 0-174, ... up to 0-249 ms. baseMs 0 = 25 ms (GEP-1731
 * `backoff` becomes Envoy's base_interval in Istio).
 */
export function backoffDelayMs(retryNumber: number, baseMs: number, random: () => number = Math.random): number {
  const base = baseMs > 0 ? baseMs : DEFAULT_BACKOFF_BASE_MS;
  const n = Math.min(Math.max(1, Math.floor(retryNumber)), 30);
  const upper = Math.min((2 ** n - 1) * base, 10 * base);
  return Math.floor(random() * upper);
}

export { RetryBudget } from './retry-budget';
