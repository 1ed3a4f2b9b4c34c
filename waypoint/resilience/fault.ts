/**
 * Fault injection (Istio VirtualService http.fault semantics, Envoy's fault filter), for the
 * FaultInjection a route filter resolves to. Delay and abort are drawn independently, each with its
 * own percentage (0-100, fractions allowed; 0 = never, as in Istio where an unset percentage
 * injects nothing). When both hit, the caller waits the delay and then aborts, as Envoy does.
 */
import type { FaultInjection__Output } from '../../common/proto/generated/ambit/v1/FaultInjection';

export interface FaultDecision {
  /** Hold the request this long before going on (response flag DI). */
  readonly delayMs?: number;
  /**
   * Answer without calling the upstream (response flag FI): `httpStatus` for HTTP, and for a gRPC
   * request a `grpcStatus` (trailers-only, HTTP 200) when configured. Either or both may be set.
   */
  readonly abort?: { readonly httpStatus?: number; readonly grpcStatus?: number };
}

export function faultDecision(f: FaultInjection__Output | null | undefined, random: () => number = Math.random): FaultDecision {
  if (f === null || f === undefined) return {};
  const out: { delayMs?: number; abort?: { httpStatus?: number; grpcStatus?: number } } = {};
  if (f.fixedDelayMs > 0 && hits(f.delayPercent, random)) out.delayMs = f.fixedDelayMs;
  const httpStatus = f.abortHttpStatus > 0 ? f.abortHttpStatus : undefined;
  // gRPC status 0 is OK, which is not an abort.
  const grpcStatus = f.abortGrpcStatus > 0 ? f.abortGrpcStatus : undefined;
  if ((httpStatus !== undefined || grpcStatus !== undefined) && hits(f.abortPercent, random)) {
    out.abort = { ...(httpStatus !== undefined ? { httpStatus } : {}), ...(grpcStatus !== undefined ? { grpcStatus } : {}) };
  }
  return out;
}

/** True with probability percent/100 (clamped). A draw is taken only for 0 < percent < 100. */
function hits(percent: number, random: () => number): boolean {
  if (!(percent > 0)) return false;
  if (percent >= 100) return true;
  return random() * 100 < percent;
}
