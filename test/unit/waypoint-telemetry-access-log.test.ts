// The waypoint's access log: one JSON line per request with Envoy-like and agent-like fields, and a
// writer that never throws or grows without bound when its stream is closed, broken or stalled.
import { PassThrough, Writable } from 'node:stream';
import { createJsonLineSink } from '../../common/telemetry/json-line-sink';
import type { RequestFacts } from '../../waypoint/pipeline/request-facts';
import { createRequestAccessLog, requestLogFields, type RequestLogRecord } from '../../waypoint/telemetry/access-log';
import { requestLabels } from '../../waypoint/telemetry/request-labels';

const facts: RequestFacts = {
  method: 'GET',
  path: '/reviews/1?x=1',
  host: 'reviews.bookinfo:9080',
  headers: { 'user-agent': 'curl/8.5', 'x-request-id': 'req-1', host: 'reviews.bookinfo:9080' },
  protocol: 'HTTP/1.1',
  grpc: false,
  source: {
    address: '10.0.0.5',
    port: 40000,
    identity: 'spiffe://cluster.local/ns/bookinfo/sa/productpage',
    principal: 'cluster.local/ns/bookinfo/sa/productpage',
    namespace: 'bookinfo',
  },
  destination: { address: '10.96.0.10', port: 9080 },
};

const record = (over: Partial<RequestLogRecord> = {}): RequestLogRecord => ({
  facts,
  labels: requestLabels({
    sourcePrincipal: facts.source.principal,
    destinationService: {
      name: 'reviews',
      namespace: 'bookinfo',
      hostname: 'reviews.bookinfo.svc.cluster.local',
      vips: [],
      ports: [],
      endpoints: [],
      waypoint: null,
      labels: {},
    },
    grpc: false,
    responseCode: 200,
    responseFlags: '-',
    mtls: true,
  }),
  startTime: Date.UTC(2025, 0, 2, 3, 4, 5, 678),
  durationMs: 12.3456,
  bytesReceived: 10,
  bytesSent: 2048,
  upstreamHost: '10.0.1.7:9080',
  routeName: 'bookinfo/reviews',
  attempts: 2,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  dstName: 'reviews-v2-xyz',
  ...over,
});

function collect(): { stream: PassThrough; lines: () => Array<Record<string, unknown>> } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('waypoint access log', () => {
  it('writes one JSON line per request with the documented fields', async () => {
    const { stream, lines } = collect();
    const log = createRequestAccessLog(stream);
    log.log(record());
    await new Promise((r) => setImmediate(r));
    expect(lines()).toEqual([
      {
        start_time: '2025-01-02T03:04:05.678Z',
        method: 'GET',
        path: '/reviews/1?x=1',
        protocol: 'HTTP/1.1',
        response_code: 200,
        response_flags: '-',
        bytes_received: 10,
        bytes_sent: 2048,
        duration: 12.346,
        upstream_host: '10.0.1.7:9080',
        upstream_service: 'reviews.bookinfo.svc.cluster.local',
        route_name: 'bookinfo/reviews',
        attempts: 2,
        'src.addr': '10.0.0.5:40000',
        'src.identity': 'spiffe://cluster.local/ns/bookinfo/sa/productpage',
        'dst.service': 'reviews.bookinfo.svc.cluster.local',
        'dst.workload': 'reviews-v2-xyz',
        authority: 'reviews.bookinfo:9080',
        user_agent: 'curl/8.5',
        request_id: 'req-1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        trace_id: '0af7651916cd43dd8448eb211c80319c',
      },
    ]);
    expect(log.stats()).toEqual({ written: 1, dropped: 0 });
  });

  it("records the waypoint's own error, the policy decision and the gRPC status", () => {
    const fields = requestLogFields(
      record({
        labels: requestLabels({ grpc: true, responseCode: 403, responseFlags: 'DENY', mtls: false }),
        error: { code: 'AMBIT_ERR_DENIED', message: 'denied by bookinfo/deny-all' },
        policy: { decision: 'deny', name: 'bookinfo/deny-all' },
        traceparent: undefined,
        dstName: undefined,
      }),
    );
    expect(fields).toMatchObject({
      response_code: 403,
      response_flags: 'DENY',
      grpc_status: 7,
      error: { code: 'AMBIT_ERR_DENIED', message: 'denied by bookinfo/deny-all' },
      policy: 'bookinfo/deny-all',
      decision: 'deny',
    });
    // Plaintext: no identities are claimed; unknown peers are left out.
    for (const k of ['src.identity', 'dst.identity', 'dst.workload', 'src.workload', 'dst.service', 'trace_id']) {
      expect(fields).not.toHaveProperty(k);
    }
  });

  it('brackets an IPv6 client address', () => {
    const v6 = { ...facts, source: { address: 'fd00::5', port: 1234 } };
    expect(requestLogFields(record({ facts: v6 }))['src.addr']).toBe('[fd00::5]:1234');
  });

  it('drops lines, without throwing, once the stream is ended or destroyed', () => {
    const ended = new PassThrough();
    ended.end();
    const a = createRequestAccessLog(ended);
    expect(() => a.log(record())).not.toThrow();
    const destroyed = new PassThrough();
    destroyed.destroy();
    const b = createRequestAccessLog(destroyed);
    expect(() => b.log(record())).not.toThrow();
    expect([a.stats().dropped, b.stats().dropped]).toEqual([1, 1]);
  });

  it('survives a stream that fails (EPIPE) and drops from then on', async () => {
    const broken = new Writable({
      write(_chunk, _enc, cb) {
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const log = createRequestAccessLog(broken);
    log.log(record()); // accepted, then the stream errors asynchronously (no listener would crash us)
    await new Promise((r) => setImmediate(r));
    log.log(record());
    expect(log.stats().dropped).toBe(1);
  });

  it('drops instead of queueing without bound when the reader stalls', () => {
    const stalled = new Writable({ highWaterMark: 16, write() {} }); // never calls back
    const sink = createJsonLineSink(stalled, { maxPendingBytes: 1000 });
    for (let i = 0; i < 100; i++) sink.write({ i, pad: 'x'.repeat(100) });
    const { written, dropped } = sink.stats();
    expect(written).toBeLessThan(15);
    expect(written + dropped).toBe(100);
  });

  it('counts a line it cannot serialise as dropped', () => {
    const sink = createJsonLineSink(new PassThrough());
    expect(() => sink.write({ n: 1n })).not.toThrow();
    expect(sink.stats()).toEqual({ written: 0, dropped: 1 });
  });
});
