/**
 * Istio's standard request metrics for the waypoint, on the caller's prom-client Registry:
 *   istio_requests_total                 every request the waypoint answered (or relayed an answer to)
 *   istio_request_duration_milliseconds  from the first request byte to the last response byte
 *   istio_request_bytes                  request body size
 *   istio_response_bytes                 response body size
 * All four carry REQUEST_LABEL_NAMES. Buckets are Envoy's defaults, which stock Istio applies to
 * every one of these histograms, the byte ones included (Istio sets no histogram_bucket_settings
 * unless the sidecar.istio.io/statsHistogramBuckets annotation asks), so `le` values line up with
 * series from Istio's own proxies.
 *
 * observe() is on the request path. prom-client hashes the label values on every call, so what can
 * be saved is the rest: the four children for one label set are looked up once per RequestLabels
 * object (a WeakMap, free when callers reuse the frozen object) or once per distinct label values
 * (a Map keyed by the joined values), never rebuilt per request.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { REQUEST_LABEL_NAMES, type RequestLabels } from './request-labels';

export { requestLabels, REQUEST_LABEL_NAMES, type RequestLabels, type RequestLabelsInput } from './request-labels';

export const ISTIO_REQUEST_METRICS = {
  requests: 'istio_requests_total',
  duration: 'istio_request_duration_milliseconds',
  requestBytes: 'istio_request_bytes',
  responseBytes: 'istio_response_bytes',
} as const;

/** Envoy's default histogram buckets (source/common/stats/histogram_impl.cc), Istio's in practice. */
export const ISTIO_DURATION_BUCKETS_MS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
]);
export const ISTIO_BYTES_BUCKETS: readonly number[] = ISTIO_DURATION_BUCKETS_MS;

/** Distinct label sets kept in the lookup cache; beyond it the cache restarts (prom-client keeps the series). */
const MAX_CACHED_SERIES = 10_000;

interface Series {
  requests: { inc(value?: number): void };
  duration: { observe(value: number): void };
  requestBytes: { observe(value: number): void };
  responseBytes: { observe(value: number): void };
}

export class RequestMetrics {
  private readonly requests: Counter<string>;
  private readonly duration: Histogram<string>;
  private readonly requestBytes: Histogram<string>;
  private readonly responseBytes: Histogram<string>;
  private readonly byObject = new WeakMap<RequestLabels, Series>();
  private readonly byValues = new Map<string, Series>();

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = REQUEST_LABEL_NAMES;
    this.requests = new Counter({
      name: ISTIO_REQUEST_METRICS.requests,
      help: 'The total number of requests handled by the waypoint',
      labelNames,
      registers,
    });
    this.duration = new Histogram({
      name: ISTIO_REQUEST_METRICS.duration,
      help: 'The duration of requests, in milliseconds',
      labelNames,
      buckets: [...ISTIO_DURATION_BUCKETS_MS],
      registers,
    });
    this.requestBytes = new Histogram({
      name: ISTIO_REQUEST_METRICS.requestBytes,
      help: 'The HTTP request body sizes, in bytes',
      labelNames,
      buckets: [...ISTIO_BYTES_BUCKETS],
      registers,
    });
    this.responseBytes = new Histogram({
      name: ISTIO_REQUEST_METRICS.responseBytes,
      help: 'The HTTP response body sizes, in bytes',
      labelNames,
      buckets: [...ISTIO_BYTES_BUCKETS],
      registers,
    });
  }

  /** Records one finished request. Never throws: a bad number is clamped, not reported as an error. */
  observe(labels: RequestLabels, durationMs: number, requestBytes: number, responseBytes: number): void {
    const s = this.series(labels);
    s.requests.inc();
    s.duration.observe(finiteOrZero(durationMs));
    s.requestBytes.observe(finiteOrZero(requestBytes));
    s.responseBytes.observe(finiteOrZero(responseBytes));
  }

  private series(labels: RequestLabels): Series {
    const cached = this.byObject.get(labels);
    if (cached !== undefined) return cached;
    let key = '';
    for (const name of REQUEST_LABEL_NAMES) key += `${labels[name]}\u0000`;
    let s = this.byValues.get(key);
    if (s === undefined) {
      if (this.byValues.size >= MAX_CACHED_SERIES) this.byValues.clear();
      // One plain object per label set: prom-client keeps it as the series' labels.
      const plain: Record<string, string> = {};
      for (const name of REQUEST_LABEL_NAMES) plain[name] = labels[name];
      s = {
        requests: this.requests.labels(plain),
        duration: this.duration.labels(plain),
        requestBytes: this.requestBytes.labels(plain),
        responseBytes: this.responseBytes.labels(plain),
      };
      this.byValues.set(key, s);
    }
    this.byObject.set(labels, s);
    return s;
  }
}

const finiteOrZero = (n: number): number => (Number.isFinite(n) && n > 0 ? n : 0);
