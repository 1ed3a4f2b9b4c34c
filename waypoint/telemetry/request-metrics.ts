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
 * observe() is on the request path: it finds the label set's accumulators once per RequestLabels
 * object (a WeakMap, free when callers reuse the frozen object) or by the joined values, and adds
 * numbers; prom-client renders them at scrape time.
 */
import type { Registry } from 'prom-client';
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

/** Distinct label sets kept in the lookup cache; beyond it the cache restarts (series are kept). */
const MAX_CACHED_SERIES = 10_000;

/** One label set's accumulators: a counter and three histograms (bucket counts, sum, count). */
interface Series {
  readonly labels: Readonly<Record<string, string>>;
  requests: number;
  readonly duration: Accumulator;
  readonly requestBytes: Accumulator;
  readonly responseBytes: Accumulator;
}

interface Accumulator {
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

const accumulator = (): Accumulator => ({ buckets: new Float64Array(ISTIO_DURATION_BUCKETS_MS.length), sum: 0, count: 0 });

function record(a: Accumulator, bounds: readonly number[], v: number): void {
  a.sum += v;
  a.count++;
  for (let i = 0; i < bounds.length; i++) {
    if (v <= bounds[i]) {
      a.buckets[i]++;
      return;
    }
  }
}

type MetricValue = { value: number; labels: Record<string, string | number>; metricName?: string };

/**
 * The request path only adds numbers to plain accumulators; prom-client's children would
 * validate and hash 25 labels four times per request (the largest item in the waypoint's profile).
 * The accumulators are exposed as ordinary prom-client metrics on the registry: the text format,
 * names, types and bucket layout are prom-client's own at scrape time.
 */
export class RequestMetrics {
  private readonly byObject = new WeakMap<RequestLabels, Series>();
  private readonly byValues = new Map<string, Series>();
  /** Every series ever seen (a counter must not go back when the lookup cache restarts). */
  private readonly all: Series[] = [];

  constructor(registry: Registry) {
    const counter = (name: string, help: string, values: () => MetricValue[]) =>
      registry.registerMetric({ name, help, type: 'counter', aggregator: 'sum', get: async () => ({ name, help, type: 'counter', aggregator: 'sum', values: values() }), reset: () => undefined } as never);
    const histogram = (name: string, help: string, pick: (s: Series) => Accumulator) =>
      registry.registerMetric({
        name,
        help,
        type: 'histogram',
        aggregator: 'sum',
        get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: this.histogramValues(name, pick) }),
        reset: () => undefined,
      } as never);
    counter(ISTIO_REQUEST_METRICS.requests, 'The total number of requests handled by the waypoint', () => this.all.map((s) => ({ value: s.requests, labels: { ...s.labels } })));
    histogram(ISTIO_REQUEST_METRICS.duration, 'The duration of requests, in milliseconds', (s) => s.duration);
    histogram(ISTIO_REQUEST_METRICS.requestBytes, 'The HTTP request body sizes, in bytes', (s) => s.requestBytes);
    histogram(ISTIO_REQUEST_METRICS.responseBytes, 'The HTTP response body sizes, in bytes', (s) => s.responseBytes);
  }

  /** Records one finished request. Never throws: a bad number is clamped, not reported as an error. */
  observe(labels: RequestLabels, durationMs: number, requestBytes: number, responseBytes: number): void {
    const s = this.series(labels);
    s.requests++;
    record(s.duration, ISTIO_DURATION_BUCKETS_MS, finiteOrZero(durationMs));
    record(s.requestBytes, ISTIO_BYTES_BUCKETS, finiteOrZero(requestBytes));
    record(s.responseBytes, ISTIO_BYTES_BUCKETS, finiteOrZero(responseBytes));
  }

  private histogramValues(name: string, pick: (s: Series) => Accumulator): MetricValue[] {
    const out: MetricValue[] = [];
    for (const s of this.all) {
      const a = pick(s);
      let cumulative = 0;
      for (let i = 0; i < ISTIO_DURATION_BUCKETS_MS.length; i++) {
        cumulative += a.buckets[i];
        out.push({ metricName: `${name}_bucket`, value: cumulative, labels: { le: ISTIO_DURATION_BUCKETS_MS[i], ...s.labels } });
      }
      out.push({ metricName: `${name}_bucket`, value: a.count, labels: { le: '+Inf', ...s.labels } });
      out.push({ metricName: `${name}_sum`, value: a.sum, labels: { ...s.labels } });
      out.push({ metricName: `${name}_count`, value: a.count, labels: { ...s.labels } });
    }
    return out;
  }

  private series(labels: RequestLabels): Series {
    const cached = this.byObject.get(labels);
    if (cached !== undefined) return cached;
    let key = '';
    for (const name of REQUEST_LABEL_NAMES) key += `${labels[name]}\u0000`;
    let s = this.byValues.get(key);
    if (s === undefined) {
      if (this.byValues.size >= MAX_CACHED_SERIES) this.byValues.clear();
      s = this.all.find((x) => REQUEST_LABEL_NAMES.every((n) => x.labels[n] === labels[n]));
      if (s === undefined) {
        const plain: Record<string, string> = {};
        for (const name of REQUEST_LABEL_NAMES) plain[name] = labels[name];
        s = { labels: plain, requests: 0, duration: accumulator(), requestBytes: accumulator(), responseBytes: accumulator() };
        this.all.push(s);
      }
      this.byValues.set(key, s);
    }
    this.byObject.set(labels, s);
    return s;
  }
}

const finiteOrZero = (n: number): number => (Number.isFinite(n) && n > 0 ? n : 0);
