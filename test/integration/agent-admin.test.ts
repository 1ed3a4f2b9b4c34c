// The agent's admin (15000), metrics (15020) and readiness (15021) servers on 127.0.0.1:0, fed by
// the real telemetry, a real pino logger and real node resource samples.
import { createLogger, type Logger } from '../../common/log';
import { AmbitError } from '../../common/errors';
import { pinoLevelControl, startAdminServer, type AdminSources } from '../../common/admin/admin-server';
import type { HttpEndpoint } from '../../common/admin/http-server';
import { startMetricsServer } from '../../common/admin/metrics-server';
import { startReadinessServer, type ReadinessServer } from '../../common/admin/readiness-server';
import { createAccessLog } from '../../agent/telemetry/access-log';
import { connectionLabels, ResponseFlags } from '../../agent/telemetry/connection-labels';
import { createConnectionTelemetry, type ConnectionTelemetry } from '../../agent/telemetry/connection-telemetry';
import { createAgentMetrics, type AgentMetrics } from '../../agent/telemetry/metrics';
import { createNodeResources, type NodeResources } from '../../agent/telemetry/node-resources';

const HOST = '127.0.0.1';
const endpoints: HttpEndpoint[] = [];
afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
});
const track = <T extends HttpEndpoint>(e: T): T => {
  endpoints.push(e);
  return e;
};

async function get(url: string, init?: RequestInit): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}
const json = async (url: string, init?: RequestInit): Promise<{ status: number; body: any }> => {
  const r = await get(url, init);
  expect(r.type).toMatch(/^application\/json/);
  return { status: r.status, body: JSON.parse(r.body) };
};

interface AgentUnderTest extends Pick<AdminSources, 'logLevel' | 'setLogLevel'> {
  metrics: AgentMetrics;
  telemetry: ConnectionTelemetry;
  /** A component logger made before any level change, as the agent's stages are. */
  proxyLog: Logger;
  lines: Record<string, unknown>[];
}

function agentTelemetry(): AgentUnderTest {
  const lines: Record<string, unknown>[] = [];
  const root = createLogger('agent', { level: 'info', destination: { write: (s: string) => lines.push(JSON.parse(s)) } });
  // Its own level, so it does not follow the root's: pinoLevelControl must set it too.
  const proxyLog = root.child({ component: 'proxy' }, { level: 'info' });
  const metrics = createAgentMetrics();
  const telemetry = createConnectionTelemetry({ metrics, accessLog: createAccessLog(proxyLog) });
  return { metrics, telemetry, proxyLog, lines, ...pinoLevelControl(root, proxyLog) };
}

const outbound = connectionLabels({
  reporter: 'source',
  source: { name: 'sleep-1', namespace: 'shop', workloadName: 'sleep', serviceAccount: 'sleep' },
  destination: { name: 'web-1', namespace: 'shop', workloadName: 'web', serviceAccount: 'web' },
  sourcePrincipal: 'spiffe://cluster.local/ns/shop/sa/sleep',
  destinationService: { hostname: 'web.shop.svc.cluster.local', name: 'web', namespace: 'shop' },
  security: 'mutual_tls',
});

describe('admin server', () => {
  let a: ReturnType<typeof agentTelemetry>;
  let admin: HttpEndpoint;
  let resources: NodeResources;

  beforeEach(async () => {
    a = agentTelemetry();
    resources = createNodeResources({ registry: a.metrics.registry });
    admin = track(
      await startAdminServer({
        host: HOST,
        port: 0,
        sources: {
          configDump: () => ({ workloads: [{ name: 'web-1', namespace: 'shop' }], version: '7' }),
          connections: () => a.telemetry.active(),
          logLevel: a.logLevel,
          setLogLevel: a.setLogLevel,
          resources: () => resources.snapshot(),
        },
      }),
    );
  });
  afterEach(() => a.telemetry.close());

  it('listens on the given address and lists its endpoints at /', async () => {
    expect(admin.address.host).toBe(HOST);
    expect(admin.address.port).toBeGreaterThan(0);
    const { status, body } = await json(`${admin.url}/`);
    expect(status).toBe(200);
    expect(body.endpoints.map((e: { path: string }) => e.path)).toEqual([
      '/',
      '/config_dump',
      '/debug/connections',
      '/debug/resources',
      '/logging',
    ]);
    expect(body.endpoints.find((e: { path: string }) => e.path === '/logging').methods).toEqual(['GET', 'POST']);
  });

  it('serves /config_dump from its source', async () => {
    expect(await json(`${admin.url}/config_dump`)).toEqual({
      status: 200,
      body: { workloads: [{ name: 'web-1', namespace: 'shop' }], version: '7' },
    });
  });

  it('shows open connections at /debug/connections', async () => {
    expect((await json(`${admin.url}/debug/connections`)).body).toEqual({ count: 0, connections: [] });
    const conn = a.telemetry.open(outbound, { src: '10.0.0.5:40000', dst: '10.96.0.10:80' });
    conn.addReceived(11);
    const { body } = await json(`${admin.url}/debug/connections`);
    expect(body.count).toBe(1);
    expect(body.connections[0]).toMatchObject({
      id: conn.id,
      direction: 'outbound',
      src: '10.0.0.5:40000',
      destinationService: 'web.shop.svc.cluster.local',
      bytesClientToServer: 11,
    });
    conn.close();
    expect((await json(`${admin.url}/debug/connections`)).body.count).toBe(0);
  });

  it('answers 503 at /debug/resources before the first sample, then the snapshot', async () => {
    expect((await json(`${admin.url}/debug/resources`)).status).toBe(503);
    await resources.sample();
    const { status, body } = await json(`${admin.url}/debug/resources`);
    expect(status).toBe(200);
    expect(body.memory.totalBytes).toBeGreaterThan(0);
    expect(body.process.pid).toBe(process.pid);
  });

  it('shows the log level on GET /logging and changes it on POST, for every logger it controls', async () => {
    expect(await json(`${admin.url}/logging`)).toEqual({ status: 200, body: { level: 'info' } });
    const set = await json(`${admin.url}/logging?level=debug`, { method: 'POST' });
    expect(set).toEqual({ status: 200, body: { level: 'debug', previous: 'info' } });
    expect((await json(`${admin.url}/logging`)).body.level).toBe('debug');
    expect(a.logLevel()).toBe('debug');
    a.proxyLog.debug('visible now');
    expect(a.lines.map((l) => l.msg)).toContain('visible now');
  });

  it('refuses a bad level with 400 naming the allowed ones, and leaves the level alone', async () => {
    const bad = await json(`${admin.url}/logging?level=verbose`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('unknown log level "verbose"');
    expect(bad.body.error).toContain('fatal, error, warn, info, debug, trace, silent');
    expect(bad.body.allowed).toEqual(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
    expect((await json(`${admin.url}/logging`, { method: 'POST' })).status).toBe(400);
    // A GET that looks like a change is refused rather than silently ignored.
    expect((await json(`${admin.url}/logging?level=debug`)).status).toBe(400);
    expect(a.logLevel()).toBe('info');
  });

  it('refuses a level change from a web page (Origin header)', async () => {
    const r = await json(`${admin.url}/logging?level=trace`, { method: 'POST', headers: { origin: 'http://evil.example' } });
    expect(r.status).toBe(403);
    expect(a.logLevel()).toBe('info');
  });

  it('answers unknown paths with a JSON 404 and wrong methods with 405', async () => {
    const missing = await json(`${admin.url}/stats?x=1`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('no such endpoint: /stats');
    expect(missing.body.endpoints).toContain('/config_dump');
    const r = await fetch(`${admin.url}/config_dump`, { method: 'DELETE' });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, HEAD');
    await r.text();
  });

  it('answers 500 when a source throws', async () => {
    const failing = track(
      await startAdminServer({
        host: HOST,
        port: 0,
        sources: {
          configDump: () => {
            throw new Error('snapshot not loaded');
          },
          connections: () => [],
          logLevel: () => 'info',
          setLogLevel: () => undefined,
        },
      }),
    );
    const r = await json(`${failing.url}/config_dump`);
    expect(r).toEqual({ status: 500, body: { error: 'internal error: snapshot not loaded' } });
    expect((await get(`${failing.url}/debug/resources`)).status).toBe(404);
  });
});

describe('metrics server', () => {
  it('serves istio_tcp_* after a recorded connection, at /metrics and /stats/prometheus', async () => {
    const a = agentTelemetry();
    const resources = createNodeResources({ registry: a.metrics.registry });
    const server = track(await startMetricsServer({ host: HOST, port: 0, registry: a.metrics.registry }));
    const conn = a.telemetry.open(outbound, { src: '10.0.0.5:40000', dst: '10.96.0.10:80' });
    conn.addReceived(300);
    conn.addSent(7000);

    // Bytes show while the connection is still open.
    let text = (await get(`${server.url}/metrics`)).body;
    expect(text).toMatch(/^istio_tcp_received_bytes_total\{reporter="source",source_workload="sleep",.*\} 300$/m);
    expect(text).toMatch(/^istio_tcp_sent_bytes_total\{.*destination_service="web\.shop\.svc\.cluster\.local".*\} 7000$/m);

    conn.close();
    a.telemetry.failed(outbound, ResponseFlags.UPSTREAM_CONNECT_FAILURE);
    await resources.sample();
    const r = await get(`${server.url}/stats/prometheus`);
    expect(r.status).toBe(200);
    expect(r.type).toContain('text/plain');
    text = r.body;
    expect(text).toMatch(/^istio_tcp_connections_opened_total\{.*response_flags="-".*\} 2$/m);
    expect(text).toMatch(/^istio_tcp_connections_closed_total\{.*response_flags="-".*\} 1$/m);
    expect(text).toMatch(/^istio_tcp_connections_closed_total\{.*response_flags="UF".*\} 1$/m);
    expect(text).toMatch(/^istio_tcp_connections_failed_total\{.*response_flags="UF",connection_security_policy="mutual_tls"\} 1$/m);
    expect(text).toMatch(/^ambit_agent_connections_active\{direction="outbound"\} 0$/m);
    // Node process metrics and node gauges share the registry.
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^ambit_node_memory_total_bytes \d+/m);
    expect(text).toMatch(/^ambit_node_cpu_utilization (0|1|0\.\d+)$/m);
    expect((await json(`${server.url}/`)).status).toBe(404);
    a.telemetry.close();
  });
});

describe('readiness server', () => {
  it('answers 503 naming what is not ready, then 200 "ready" once every check passes', async () => {
    let configLoaded = false;
    let pending = 2;
    const server: ReadinessServer = track(
      await startReadinessServer({
        host: HOST,
        port: 0,
        checks: [
          { name: 'config', check: () => ({ ok: configLoaded, detail: configLoaded ? undefined : 'no snapshot yet' }) },
          { name: 'certificates', check: async () => ({ ok: pending === 0, detail: `${pending} identities pending` }) },
        ],
      }),
    );
    const url = `${server.url}/healthz/ready`;
    let r = await get(url);
    expect(r).toEqual({
      status: 503,
      type: 'text/plain; charset=utf-8',
      body: 'not ready\nconfig: no snapshot yet\ncertificates: 2 identities pending\n',
    });
    configLoaded = true;
    r = await get(url);
    expect(r.status).toBe(503);
    expect(r.body).not.toContain('config');
    pending = 0;
    r = await get(url);
    expect([r.status, r.body]).toEqual([200, 'ready\n']);
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
  });

  it('counts a throwing, rejecting or hanging check as not ready; checks can be added and removed', async () => {
    const server = track(await startReadinessServer({ host: HOST, port: 0, checkTimeoutMs: 100 }));
    const url = `${server.url}/healthz/ready`;
    expect((await get(url)).status).toBe(200);
    const removeThrow = server.addCheck({
      name: 'capture',
      check: () => {
        throw new Error('bpf programs not attached');
      },
    });
    const removeHang = server.addCheck({ name: 'control-plane', check: () => new Promise(() => undefined) });
    const removeReject = server.addCheck({ name: 'identity', check: () => Promise.reject(new Error('CA unreachable')) });
    const r = await get(url);
    expect(r.status).toBe(503);
    expect(r.body).toContain('capture: check failed: bpf programs not attached');
    expect(r.body).toContain('control-plane: check timed out after 100 ms');
    expect(r.body).toContain('identity: check failed: CA unreachable');
    removeThrow();
    removeHang();
    removeReject();
    expect((await get(url)).status).toBe(200);
    expect((await get(`${server.url}/healthz/live`)).status).toBe(404);
  });
});

describe('listening', () => {
  it('fails with a typed error naming the address when the port is taken', async () => {
    const first = track(await startReadinessServer({ host: HOST, port: 0 }));
    const err = await startMetricsServer({ host: HOST, port: first.address.port, registry: createAgentMetrics({ processMetrics: false }).registry }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AmbitError);
    expect(err).toMatchObject({ code: 'AMBIT_ERR_INVALID_ARGUMENT' });
    expect((err as Error).message).toContain(`metrics server cannot listen on ${HOST}:${first.address.port}: EADDRINUSE`);
  });

  it('rejects a port that is not a TCP port', async () => {
    await expect(startReadinessServer({ host: HOST, port: 70000 })).rejects.toMatchObject({
      code: 'AMBIT_ERR_INVALID_ARGUMENT',
      message: 'readiness server port 70000 is not a TCP port (0-65535)',
    });
  });

  it('closes promptly even with a keep-alive client connected, and close() is idempotent', async () => {
    const server = await startMetricsServer({ host: HOST, port: 0, registry: createAgentMetrics({ processMetrics: false }).registry });
    expect((await get(`${server.url}/metrics`)).status).toBe(200);
    const closing = server.close();
    expect(server.close()).toBe(closing);
    await closing;
    await expect(fetch(`${server.url}/metrics`)).rejects.toThrow();
  });
});

describe('node resources', () => {
  it('samples CPU, memory and load into gauges and a snapshot, on an unref timer', async () => {
    const metrics = createAgentMetrics({ processMetrics: false });
    const resources = createNodeResources({ registry: metrics.registry, intervalMs: 200 });
    expect(resources.snapshot()).toBeUndefined();
    const snap = await resources.sample();
    expect(snap.cpu.utilization).toBeGreaterThanOrEqual(0);
    expect(snap.cpu.utilization).toBeLessThanOrEqual(1);
    expect(snap.cpu.cores).toBeGreaterThan(0);
    expect(snap.memory.totalBytes).toBeGreaterThan(snap.memory.usedBytes);
    expect(snap.memory.usedBytes).toBeGreaterThan(0);
    expect(snap.process.rssBytes).toBeGreaterThan(0);
    expect(snap.process.cpuSeconds).toBeGreaterThan(0);
    expect(Object.keys(snap.loadAverage)).toEqual(['1m', '5m', '15m']);
    const text = await metrics.registry.metrics();
    expect(text).toContain(`ambit_node_memory_total_bytes ${snap.memory.totalBytes}`);
    expect(text).toMatch(/^ambit_node_load1 \d/m);

    resources.start();
    resources.start();
    await new Promise((r) => setTimeout(r, 900));
    resources.stop();
    expect(Date.parse(resources.snapshot()!.sampledAt)).toBeGreaterThan(Date.parse(snap.sampledAt));
    expect(() => createNodeResources({ intervalMs: 5 })).toThrow(
      expect.objectContaining({ code: 'AMBIT_ERR_INVALID_ARGUMENT' }) as unknown as Error,
    );
  });
});
