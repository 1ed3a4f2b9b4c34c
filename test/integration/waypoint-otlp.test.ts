// The OTLP/HTTP JSON exporter against a real local collector (an HTTP server on 127.0.0.1:0):
// the body's structure, batching by size and by interval, the bounded queue, and failures that
// are counted (and logged once) without ever throwing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../common/log';
import { OtlpExporter } from '../../waypoint/telemetry/otlp-exporter';
import { startSpan, type FinishedSpan } from '../../waypoint/telemetry/tracing';

interface Received {
  path: string;
  contentType: string | undefined;
  body: {
    resourceSpans: Array<{
      resource: { attributes: Array<{ key: string; value: { stringValue: string } }> };
      scopeSpans: Array<{ scope: { name: string }; spans: Array<Record<string, unknown>> }>;
    }>;
  };
}

interface Collector {
  url: string;
  received: Received[];
  /** Answers with this status, or hangs when 'hang'. */
  mode: number | 'hang';
  close(): Promise<void>;
}

async function startCollector(): Promise<Collector> {
  const received: Received[] = [];
  const c = { received, mode: 200 as number | 'hang' } as Collector;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      if (c.mode === 'hang') return;
      received.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString()) as Received['body'],
      });
      res.writeHead(c.mode, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  c.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  c.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return c;
}

const spansOf = (r: Received): Array<Record<string, unknown>> => r.body.resourceSpans[0].scopeSpans[0].spans;

function finished(name: string, sampled = true): FinishedSpan {
  const parent = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled };
  return startSpan(parent, name, 'SERVER', 1_700_000_000_000_000_000n).end('UNSET', 1_700_000_000_005_000_000n);
}

const waitFor = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('OtlpExporter', () => {
  let collector: Collector;
  const exporters: OtlpExporter[] = [];
  const exporter = (opts: Partial<ConstructorParameters<typeof OtlpExporter>[0]> = {}): OtlpExporter => {
    const e = new OtlpExporter({ endpoint: collector.url, serviceName: 'waypoint.bookinfo', flushIntervalMs: 60_000, ...opts });
    exporters.push(e);
    return e;
  };

  beforeEach(async () => {
    collector = await startCollector();
  });
  afterEach(async () => {
    collector.mode = 200;
    await Promise.all(exporters.splice(0).map((e) => e.close()));
    await collector.close();
  });

  it('posts OTLP JSON: resource, scope, hex ids, numeric kind, string nanos, typed attributes', async () => {
    const e = exporter();
    const server = startSpan(
      { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true },
      'reviews:9080/*',
      'SERVER',
      1_700_000_000_000_000_000n,
    );
    server.setAttribute('http.request.method', 'GET').setAttribute('http.response.status_code', 200);
    server.setAttribute('ratio', 0.5).setAttribute('retried', false);
    const client = startSpan(server, 'upstream', 'CLIENT', 1_700_000_000_001_000_000n);
    e.export(client.end('ERROR', 1_700_000_000_002_000_000n));
    e.export(server.end('UNSET', 1_700_000_000_003_000_000n));
    await e.flush();

    expect(collector.received).toHaveLength(1);
    const [r] = collector.received;
    expect(r.path).toBe('/v1/traces');
    expect(r.contentType).toBe('application/json');
    expect(r.body.resourceSpans).toHaveLength(1);
    expect(r.body.resourceSpans[0].resource.attributes).toEqual([
      { key: 'service.name', value: { stringValue: 'waypoint.bookinfo' } },
    ]);
    expect(r.body.resourceSpans[0].scopeSpans[0].scope).toEqual({ name: 'ambit-waypoint' });
    const [c, s] = spansOf(r);
    expect(c).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: client.spanId,
      parentSpanId: server.spanId,
      name: 'upstream',
      kind: 3,
      startTimeUnixNano: '1700000000001000000',
      endTimeUnixNano: '1700000000002000000',
      attributes: [],
      status: { code: 2 },
    });
    expect(s).toMatchObject({ parentSpanId: '00f067aa0ba902b7', kind: 2, status: { code: 0 } });
    expect(s.attributes).toEqual([
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'http.response.status_code', value: { intValue: '200' } },
      { key: 'ratio', value: { doubleValue: 0.5 } },
      { key: 'retried', value: { boolValue: false } },
    ]);
    expect(e.stats()).toEqual({ exported: 2, dropped: 0, failed: 0 });
  });

  it('leaves out parentSpanId on a root span and never exports unsampled spans', async () => {
    const e = exporter();
    e.export(startSpan(undefined, 'root', 'SERVER').end());
    e.export(finished('unsampled', false));
    await e.flush();
    expect(spansOf(collector.received[0]).map((s) => [s.name, 'parentSpanId' in s])).toEqual([['root', false]]);
    expect(e.stats().exported).toBe(1);
  });

  it('sends a batch as soon as it is full, and the rest on close', async () => {
    const e = exporter({ maxBatch: 2 });
    for (let i = 0; i < 5; i++) e.export(finished(`s${i}`));
    expect(collector.received).toHaveLength(0); // export() never sends on the caller's stack
    await waitFor(() => collector.received.length >= 2);
    await e.close();
    expect(collector.received.map((r) => spansOf(r).map((s) => s.name))).toEqual([['s0', 's1'], ['s2', 's3'], ['s4']]);
    expect(e.stats()).toEqual({ exported: 5, dropped: 0, failed: 0 });
    e.export(finished('late'));
    expect(e.stats().dropped).toBe(1);
  });

  it('sends a partial batch when the interval elapses', async () => {
    const e = exporter({ flushIntervalMs: 50 });
    e.export(finished('lonely'));
    await waitFor(() => collector.received.length === 1);
    expect(spansOf(collector.received[0]).map((s) => s.name)).toEqual(['lonely']);
  });

  it('drops and counts spans beyond the queue bound', async () => {
    const e = exporter({ maxQueue: 3, maxBatch: 10 });
    for (let i = 0; i < 5; i++) e.export(finished(`s${i}`));
    await e.flush();
    expect(spansOf(collector.received[0]).map((s) => s.name)).toEqual(['s0', 's1', 's2']);
    expect(e.stats()).toEqual({ exported: 3, dropped: 2, failed: 0 });
  });

  it('counts a collector error answer as failed', async () => {
    collector.mode = 503;
    const e = exporter();
    e.export(finished('a'));
    await e.flush();
    expect(e.stats()).toEqual({ exported: 0, dropped: 0, failed: 1 });
  });

  it('gives up on a collector that does not answer within the timeout', async () => {
    collector.mode = 'hang';
    const e = exporter({ timeoutMs: 100 });
    e.export(finished('a'));
    await e.flush();
    expect(e.stats().failed).toBe(1);
  });

  it('counts a dead collector as failed without throwing, and logs it once', async () => {
    const dead = await startCollector();
    const deadUrl = dead.url;
    await dead.close();
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const e = exporter({ endpoint: deadUrl, logger: createLogger('waypoint', { level: 'warn', destination: out }) });
    expect(() => e.export(finished('a'))).not.toThrow();
    await expect(e.flush()).resolves.toBeUndefined();
    e.export(finished('b'));
    e.export(finished('c'));
    await e.flush();
    expect(e.stats()).toEqual({ exported: 0, dropped: 0, failed: 3 });
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'warn', component: 'otlp-exporter', failed: 1 });
  });

  it('refuses an endpoint that is not an http(s) URL, naming it', () => {
    expect(() => new OtlpExporter({ endpoint: 'collector:4318', serviceName: 'w' })).toThrow(/collector:4318/);
    expect(() => new OtlpExporter({ endpoint: 'grpc://c:4317', serviceName: 'w' })).toThrow(/http:\/\//);
    expect(() => exporter({ maxBatch: 0 })).toThrow(/maxBatch/);
  });
});
