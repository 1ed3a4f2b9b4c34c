/**
 * When to ask for the next certificate. A certificate is refreshed once `refreshFraction` of its
 * lifetime has passed (half-life by default, as Istio and ztunnel do), so a control-plane outage
 * of up to the other half is invisible to workloads.
 *
 * The lifetime is counted from when the request was sent, not from the certificate's notBefore:
 * the CA backdates notBefore (control-plane/ca/certificate-authority.ts, CLOCK_SKEW_SECONDS) so
 * peers with slow clocks accept it, and counting from there would refresh a short-lived
 * certificate at once, over and over. Using our own clock also makes the schedule immune to skew
 * between the agent and the CA, except through notAfter itself.
 */
import type { BackoffOptions } from '../config-client/backoff';
import { IdentityError, IdentityErrorCodes } from './identity-errors';

/** setTimeout's longest delay (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const DEFAULT_VALIDITY_SECONDS = 24 * 3600;
export const DEFAULT_REFRESH_FRACTION = 0.5;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 60_000;
/** Failed requests are retried after 1 s, 2 s, 4 s, ... up to 60 s, each +/- 50 % at random. */
export const DEFAULT_RETRY: Readonly<Required<BackoffOptions>> = Object.freeze({
  initialMs: 1_000,
  maxMs: 60_000,
  multiplier: 2,
  jitter: 0.5,
});

export interface ScheduleSettings {
  /** Requested lifetime (CreateCertificateRequest.validity_seconds); the CA may cap it. */
  readonly validitySeconds: number;
  /** Share of the lifetime after which a certificate is refreshed, 0 < f < 1. */
  readonly refreshFraction: number;
  /** Deadline of one CreateCertificate call. */
  readonly requestTimeoutMs: number;
  /** How long acquire() waits for a first certificate while the CA is unreachable. */
  readonly acquireTimeoutMs: number;
  readonly retry: Required<BackoffOptions>;
}

export type ScheduleOptions = Partial<Omit<ScheduleSettings, 'retry'>> & { retry?: BackoffOptions };

/** Defaults filled in and every value checked; a bad one names itself. */
export function scheduleSettings(opts: ScheduleOptions): ScheduleSettings {
  const s: ScheduleSettings = {
    validitySeconds: opts.validitySeconds ?? DEFAULT_VALIDITY_SECONDS,
    refreshFraction: opts.refreshFraction ?? DEFAULT_REFRESH_FRACTION,
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    acquireTimeoutMs: opts.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS,
    retry: { ...DEFAULT_RETRY, ...opts.retry },
  };
  const bad = (what: string): never => {
    throw new IdentityError(IdentityErrorCodes.INVALID_ARGUMENT, `certificate manager option ${what}`);
  };
  // validity_seconds is a uint32 on the wire; 0 would mean "the CA's default", say so explicitly instead.
  if (!Number.isInteger(s.validitySeconds) || s.validitySeconds < 1 || s.validitySeconds > 0xffffffff) {
    bad(`validitySeconds=${s.validitySeconds} must be a whole number of seconds, at least 1`);
  }
  if (!(s.refreshFraction > 0 && s.refreshFraction < 1)) bad(`refreshFraction=${s.refreshFraction} must be between 0 and 1 (exclusive)`);
  if (!(Number.isFinite(s.requestTimeoutMs) && s.requestTimeoutMs > 0)) bad(`requestTimeoutMs=${s.requestTimeoutMs} must be > 0`);
  if (!(Number.isFinite(s.acquireTimeoutMs) && s.acquireTimeoutMs > 0)) bad(`acquireTimeoutMs=${s.acquireTimeoutMs} must be > 0`);
  return Object.freeze(s);
}

/**
 * Milliseconds from `now` until a certificate requested at `requestedAt` (epoch ms) and valid
 * until `notAfter` should be refreshed; 0 when that time has passed.
 */
export function refreshDelayMs(requestedAt: number, notAfter: Date, fraction: number, now: number): number {
  const lifetime = Math.max(0, notAfter.getTime() - requestedAt);
  const at = requestedAt + lifetime * fraction;
  return Math.min(MAX_TIMER_MS, Math.max(0, Math.round(at - now)));
}
