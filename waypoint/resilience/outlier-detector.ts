/**
 * Passive health checking (DestinationRule trafficPolicy.outlierDetection, Envoy's outlier detector,
 * consecutive-errors detectors only: Istio exposes no success-rate detection).
 *
 * - consecutive5xxErrors: 5xx responses in a row, counting connect failures and resets as 503 and
 *   timeouts as 504 (Envoy without split_external_local_origin_errors). 0 disables it.
 * - consecutiveGatewayErrors: 502/503/504 (and those failures) in a row; another 5xx resets it, as
 *   in Envoy. 0 disables it.
 * - Any non-5xx response resets both counters (4xx are the client's fault).
 * The control plane fills Istio's defaults for unset fields (5, 0, 10 s, 30 s, 10 %, 0 %); a 0
 * baseEjectionTime here falls back to Envoy's 30 s.
 *
 * Ejection lasts baseEjectionTime × the number of times the endpoint has been ejected, capped at
 * Envoy's max_ejection_time default of 300 s (or the base time when that is larger). Each full
 * interval an endpoint then stays in service takes one off that multiplier (Envoy >= 1.21).
 * Un-ejection is evaluated lazily on each call against now(), but rounded up to the detector's
 * next interval tick, because Envoy only notices expiry in its interval sweep: a 30 s ejection with
 * a 10 s interval that started at t=3 s ends at t=40 s, not 33 s. intervalMs 0 = exact expiry.
 */
import type { OutlierDetection__Output } from '../../common/proto/generated/ambit/v1/OutlierDetection';
import type { UpstreamEndpoint } from '../balance/endpoint';
import { effectiveStatus, UpstreamOutcome } from './outcome';

export const DEFAULT_BASE_EJECTION_MS = 30_000;
export const MAX_EJECTION_MS = 300_000;

interface EndpointHealth {
  consecutive5xx: number;
  consecutiveGateway: number;
  /** Times ejected in a row (the ejection-time multiplier). */
  times: number;
  /** Ejected until this time (already rounded to an interval tick); 0 = in service. */
  until: number;
  /** When the multiplier last decayed or the endpoint came back, for decay accounting. */
  since: number;
}

export class OutlierDetector {
  private readonly health = new Map<string, EndpointHealth>();
  private readonly start: number;
  /** Size of the endpoint set last seen by available(), the base for maxEjectionPercent. */
  private poolSize = 0;

  constructor(private readonly cfg: OutlierDetection__Output, private readonly now: () => number = Date.now) {
    this.start = now();
  }

  record(uid: string, outcome: UpstreamOutcome): void {
    const t = this.now();
    const h = this.state(uid, t);
    if (h.until > 0) return; // in-flight results from an ejected endpoint neither extend nor end it
    const status = effectiveStatus(outcome);
    if (status === undefined || status < 500) {
      h.consecutive5xx = 0;
      h.consecutiveGateway = 0;
      return;
    }
    h.consecutive5xx++;
    if (status === 502 || status === 503 || status === 504) h.consecutiveGateway++;
    else h.consecutiveGateway = 0;
    const c5 = this.cfg.consecutive_5xxErrors;
    const cg = this.cfg.consecutiveGatewayErrors;
    if ((c5 > 0 && h.consecutive5xx >= c5) || (cg > 0 && h.consecutiveGateway >= cg)) {
      h.consecutive5xx = 0;
      h.consecutiveGateway = 0;
      if (this.mayEject(t)) this.eject(h, t);
    }
  }

  isEjected(uid: string): boolean {
    const h = this.health.get(uid);
    return h !== undefined && this.refresh(h, this.now()).until > 0;
  }

  /**
   * The endpoints to balance over: those not ejected. Istio's minHealthPercent is Envoy's panic
   * threshold: when fewer than that percent of the set are healthy, ejections are ignored and all
   * endpoints are used (0 = never panic, so an all-ejected set yields [] and the request fails 503 UH).
   * Returns `endpoints` itself when nothing is ejected (or in panic), so a consistent-hash balancer
   * finds its table by array identity without re-keying the set.
   */
  available<E extends UpstreamEndpoint>(endpoints: readonly E[]): readonly E[] {
    this.poolSize = endpoints.length;
    const healthy = endpoints.filter((e) => !this.isEjected(e.uid));
    if (healthy.length === endpoints.length) return endpoints;
    const min = this.cfg.minHealthPercent;
    if (min > 0 && healthy.length * 100 < min * endpoints.length) return endpoints;
    return healthy;
  }

  /** Endpoints currently ejected, for /config_dump and tests. */
  ejections(): Array<{ uid: string; until: number; times: number }> {
    const t = this.now();
    const out: Array<{ uid: string; until: number; times: number }> = [];
    for (const [uid, h] of this.health) {
      if (this.refresh(h, t).until > 0) out.push({ uid, until: h.until, times: h.times });
    }
    return out;
  }

  /**
   * Envoy: eject if nothing is ejected yet, else only while the ejected share is below
   * maxEjectionPercent. So one endpoint can always be ejected, even the only one (as in Istio, which
   * then answers 503 until it returns unless minHealthPercent allows panic routing), and 10 % of a
   * 15-endpoint set allows two.
   */
  private mayEject(t: number): boolean {
    let ejected = 0;
    for (const h of this.health.values()) if (this.refresh(h, t).until > 0) ejected++;
    if (ejected === 0) return true;
    const total = Math.max(this.poolSize, this.health.size);
    return (100 * ejected) / total < this.cfg.maxEjectionPercent;
  }

  private eject(h: EndpointHealth, t: number): void {
    const base = this.cfg.baseEjectionTimeMs > 0 ? this.cfg.baseEjectionTimeMs : DEFAULT_BASE_EJECTION_MS;
    h.times++;
    const duration = Math.min(base * h.times, Math.max(MAX_EJECTION_MS, base));
    h.until = this.nextTick(t + duration);
  }

  /** First interval sweep at or after `t` (the detector's ticks start at its creation). */
  private nextTick(t: number): number {
    const interval = this.cfg.intervalMs;
    if (interval <= 0) return t;
    return this.start + Math.ceil((t - this.start) / interval) * interval;
  }

  private state(uid: string, t: number): EndpointHealth {
    let h = this.health.get(uid);
    if (h === undefined) {
      h = { consecutive5xx: 0, consecutiveGateway: 0, times: 0, until: 0, since: t };
      this.health.set(uid, h);
    }
    return this.refresh(h, t);
  }

  /** Applies what time has done: end an expired ejection, decay the multiplier while in service. */
  private refresh(h: EndpointHealth, t: number): EndpointHealth {
    if (h.until > 0) {
      if (t < h.until) return h;
      h.since = h.until;
      h.until = 0;
    }
    const interval = this.cfg.intervalMs > 0 ? this.cfg.intervalMs : this.cfg.baseEjectionTimeMs || DEFAULT_BASE_EJECTION_MS;
    if (h.times > 0) {
      const steps = Math.floor((t - h.since) / interval);
      if (steps > 0) {
        h.times = Math.max(0, h.times - steps);
        h.since += steps * interval;
      }
    } else {
      h.since = t;
    }
    return h;
  }
}
