// Istio's request metrics after observe(): names, buckets, labels, and the cached children.
import { Registry } from 'prom-client';
import {
  ISTIO_DURATION_BUCKETS_MS,
  RequestMetrics,
  requestLabels,
  type RequestLabels,
} from '../../waypoint/telemetry/request-metrics';

const ok = (): RequestLabels => requestLabels({ grpc: false, responseCode: 200, responseFlags: '-', mtls: true });

describe('RequestMetrics', () => {
  it('counts requests and records duration and sizes with Istio names and labels', async () => {
    const registry = new Registry();
    const metrics = new RequestMetrics(registry);
    metrics.observe(ok(), 12, 100, 2000);
    metrics.observe(ok(), 3, 0, 10); // a new, equal labels object lands on the same series
    metrics.observe(requestLabels({ grpc: true, grpcStatus: 14, responseCode: 200, responseFlags: 'UF', mtls: true }), 1, 5, 0);
    const text = await registry.metrics();

    expect(text).toContain('# TYPE istio_requests_total counter');
    expect(text).toMatch(/istio_requests_total\{reporter="waypoint",source_workload="unknown",.*response_code="200",grpc_response_status="",response_flags="-",connection_security_policy="mutual_tls"\} 2\n/);
    expect(text).toMatch(/istio_requests_total\{[^}]*request_protocol="grpc",response_code="200",grpc_response_status="14",response_flags="UF"[^}]*\} 1\n/);
    expect(text).toContain('# TYPE istio_request_duration_milliseconds histogram');
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{le="5",[^}]*request_protocol="http"[^}]*\} 1\n/);
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{le="25",[^}]*request_protocol="http"[^}]*\} 2\n/);
    expect(text).toMatch(/istio_request_duration_milliseconds_sum\{[^}]*request_protocol="http"[^}]*\} 15\n/);
    expect(text).toMatch(/istio_request_bytes_sum\{[^}]*request_protocol="http"[^}]*\} 100\n/);
    expect(text).toMatch(/istio_response_bytes_sum\{[^}]*request_protocol="http"[^}]*\} 2010\n/);
    expect(text).toMatch(/istio_response_bytes_bucket\{le="1000",[^}]*request_protocol="http"[^}]*\} 1\n/);
  });

  it("uses Envoy's default buckets, which Istio applies to durations and sizes alike", async () => {
    const registry = new Registry();
    new RequestMetrics(registry).observe(ok(), 1, 1, 1);
    const text = await registry.metrics();
    for (const name of ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) {
      const les = [...text.matchAll(new RegExp(`${name}_bucket\\{le="([^"]+)"`, 'g'))].map((m) => m[1]);
      expect(les).toEqual([...ISTIO_DURATION_BUCKETS_MS.map(String), '+Inf']);
    }
    expect(ISTIO_DURATION_BUCKETS_MS.at(-1)).toBe(3600000);
  });

  it('does not throw on bad numbers (clamps them to 0)', async () => {
    const registry = new Registry();
    const metrics = new RequestMetrics(registry);
    expect(() => metrics.observe(ok(), NaN, -1, Infinity)).not.toThrow();
    expect(await registry.metrics()).toMatch(/istio_request_duration_milliseconds_count\{[^}]*\} 1\n/);
  });

  it('keeps registries apart (two waypoints in one process)', async () => {
    const a = new Registry();
    const b = new Registry();
    new RequestMetrics(a).observe(ok(), 1, 1, 1);
    new RequestMetrics(b);
    expect(await a.metrics()).toMatch(/istio_requests_total\{[^}]*\} 1/);
    expect(await b.metrics()).not.toMatch(/istio_requests_total\{/);
  });
});
