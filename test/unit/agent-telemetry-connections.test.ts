// Connection accounting read back the way Prometheus reads it: the registry's text exposition.
// Covers open/close/failed counting, byte progress while a connection is open, the agent gauges and
// the diagnostics_channel events.
import { Diagnostics, type ConnectionCloseMessage, type ConnectionOpenMessage } from '../../common/diagnostics';
import { connectionLabels, ResponseFlags, type WorkloadLike } from '../../agent/telemetry/connection-labels';
import { createConnectionTelemetry, type ConnectionTelemetry } from '../../agent/telemetry/connection-telemetry';
import { createAgentMetrics, ISTIO_TCP_METRICS, type AgentMetrics } from '../../agent/telemetry/metrics';

/** Sum of the samples of `name` whose labels include `match`, from Prometheus text. */
function sampleValue(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) {
      sum += Number(m[3]);
      found = true;
    }
  }
  return found ? sum : NaN;
}

const client: WorkloadLike = { name: 'sleep-1', namespace: 'shop', workloadName: 'sleep', serviceAccount: 'sleep' };
const server: WorkloadLike = { name: 'web-1', namespace: 'shop', workloadName: 'web', serviceAccount: 'web', labels: { app: 'web' } };
const outbound = connectionLabels({
  reporter: 'source',
  source: client,
  destination: server,
  sourcePrincipal: 'spiffe://cluster.local/ns/shop/sa/sleep',
  destinationService: { hostname: 'web.shop.svc.cluster.local', name: 'web', namespace: 'shop' },
  security: 'mutual_tls',
});
const peers = { src: '10.0.0.5:40000', dst: '10.96.0.10:80', hboneAddr: '10.0.0.7:8080' };

describe('connection telemetry', () => {
  let metrics: AgentMetrics;
  let telemetry: ConnectionTelemetry;
  let clock: number;
  const scrape = (): Promise<string> => metrics.registry.metrics();

  beforeEach(() => {
    clock = Date.parse('2025-01-01T00:00:00Z');
    metrics = createAgentMetrics({ processMetrics: false });
    telemetry = createConnectionTelemetry({ metrics, now: () => clock });
  });
  afterEach(() => telemetry.close());

  it('exposes every istio_tcp_* family and the agent gauges at 0 before any connection', async () => {
    const text = await scrape();
    for (const name of Object.values(ISTIO_TCP_METRICS)) expect(text).toContain(`# TYPE ${name} counter`);
    expect(sampleValue(text, 'ambit_agent_enrolled_pods')).toBe(0);
    expect(sampleValue(text, 'ambit_agent_certificates', { state: 'valid' })).toBe(0);
    expect(sampleValue(text, 'ambit_agent_hbone_connections', { direction: 'inbound' })).toBe(0);
    expect(sampleValue(text, 'ambit_agent_connections_active', { direction: 'outbound' })).toBe(0);
  });

  it('counts an open connection and shows its bytes on every scrape before it closes', async () => {
    const conn = telemetry.open(outbound, peers);
    conn.addReceived(100);
    conn.addSent(40);
    let text = await scrape();
    const labels = { reporter: 'source', source_workload: 'sleep', destination_workload: 'web', destination_app: 'web' };
    expect(sampleValue(text, ISTIO_TCP_METRICS.opened, labels)).toBe(1);
    expect(sampleValue(text, ISTIO_TCP_METRICS.receivedBytes, labels)).toBe(100);
    expect(sampleValue(text, ISTIO_TCP_METRICS.sentBytes, labels)).toBe(40);
    expect(sampleValue(text, ISTIO_TCP_METRICS.closed)).toBeNaN();
    expect(sampleValue(text, 'ambit_agent_connections_active', { direction: 'outbound' })).toBe(1);

    conn.addReceived(50);
    text = await scrape();
    expect(sampleValue(text, ISTIO_TCP_METRICS.receivedBytes, labels)).toBe(150);

    conn.addSent(10);
    conn.close();
    text = await scrape();
    expect(sampleValue(text, ISTIO_TCP_METRICS.sentBytes, labels)).toBe(50);
    expect(sampleValue(text, ISTIO_TCP_METRICS.closed, { ...labels, response_flags: '-' })).toBe(1);
    expect(sampleValue(text, ISTIO_TCP_METRICS.failed)).toBeNaN();
    expect(sampleValue(text, 'ambit_agent_connections_active', { direction: 'outbound' })).toBe(0);
  });

  it('closes once; late bytes still reach the counters', async () => {
    const conn = telemetry.open(outbound, peers);
    conn.close();
    conn.close({ responseFlags: ResponseFlags.DENY });
    conn.addSent(7);
    const text = await scrape();
    expect(sampleValue(text, ISTIO_TCP_METRICS.closed)).toBe(1);
    expect(sampleValue(text, ISTIO_TCP_METRICS.failed)).toBeNaN();
    expect(sampleValue(text, ISTIO_TCP_METRICS.sentBytes)).toBe(7);
    expect(conn.bytesSent).toBe(0);
  });

  it('ignores negative, zero and non-finite byte counts', async () => {
    const conn = telemetry.open(outbound, peers);
    conn.addSent(-5);
    conn.addSent(0);
    conn.addReceived(Number.NaN);
    conn.addReceived(Infinity);
    expect([conn.bytesSent, conn.bytesReceived]).toEqual([0, 0]);
    conn.close();
  });

  it('labels the close with the final response flags and counts it failed', async () => {
    const conn = telemetry.open(outbound, peers);
    conn.addReceived(10);
    conn.close({ responseFlags: ResponseFlags.UPSTREAM_CONNECT_FAILURE, error: new Error('connect ECONNREFUSED') });
    const text = await scrape();
    expect(sampleValue(text, ISTIO_TCP_METRICS.opened, { response_flags: '-' })).toBe(1);
    expect(sampleValue(text, ISTIO_TCP_METRICS.closed, { response_flags: 'UF' })).toBe(1);
    expect(sampleValue(text, ISTIO_TCP_METRICS.failed, { response_flags: 'UF' })).toBe(1);
    // Bytes belong to the connection as it was opened.
    expect(sampleValue(text, ISTIO_TCP_METRICS.receivedBytes, { response_flags: '-' })).toBe(10);
  });

  it('failed() counts a refused connection as opened, closed and failed, like ztunnel', async () => {
    const inbound = connectionLabels({ reporter: 'destination', source: client, destination: server, security: 'mutual_tls' });
    telemetry.failed(inbound, ResponseFlags.DENY, { peers, policy: 'shop/deny-sleep' });
    const text = await scrape();
    const m = { reporter: 'destination', response_flags: 'DENY' };
    expect(sampleValue(text, ISTIO_TCP_METRICS.opened, { reporter: 'destination' })).toBe(1);
    expect(sampleValue(text, ISTIO_TCP_METRICS.closed, m)).toBe(1);
    expect(sampleValue(text, ISTIO_TCP_METRICS.failed, m)).toBe(1);
    expect(sampleValue(text, 'ambit_agent_connections_active', { direction: 'inbound' })).toBe(0);
    expect(telemetry.activeCount).toBe(0);
  });

  it('lists open connections for /debug/connections', () => {
    const a = telemetry.open(outbound, { ...peers, srcName: 'sleep-1' });
    clock += 2500;
    a.addReceived(3);
    a.addSent(9);
    const b = telemetry.open(connectionLabels({ reporter: 'destination' }), { src: '10.0.0.9:1', dst: '10.0.0.7:8080' });
    const list = telemetry.active();
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({
      id: a.id,
      direction: 'outbound',
      durationMs: 2500,
      src: '10.0.0.5:40000',
      hboneAddr: '10.0.0.7:8080',
      sourceWorkload: 'sleep-1',
      destinationWorkload: 'web',
      destinationService: 'web.shop.svc.cluster.local',
      security: 'mutual_tls',
      bytesClientToServer: 3,
      bytesServerToClient: 9,
    });
    expect(list[1]).toMatchObject({ id: b.id, direction: 'inbound', sourceWorkload: 'unknown' });
    a.close();
    expect(telemetry.active().map((c) => c.id)).toEqual([b.id]);
    b.close();
  });

  it('publishes open and close on the ambit:connection:* channels', () => {
    const opened: ConnectionOpenMessage[] = [];
    const closed: ConnectionCloseMessage[] = [];
    const offOpen = Diagnostics.connectionOpen.subscribe((m) => opened.push(m));
    const offClose = Diagnostics.connectionClose.subscribe((m) => closed.push(m));
    try {
      const conn = telemetry.open(outbound, peers);
      clock += 40;
      conn.addReceived(5);
      conn.addSent(6);
      conn.close({ responseFlags: ResponseFlags.NO_ROUTE, error: 'no route' });
    } finally {
      offOpen();
      offClose();
    }
    expect(opened).toEqual([
      expect.objectContaining({ direction: 'outbound', src: peers.src, dst: peers.dst, destinationWorkload: 'web' }),
    ]);
    expect(closed).toEqual([
      expect.objectContaining({
        id: opened[0].id,
        durationMs: 40,
        bytesClientToServer: 5,
        bytesServerToClient: 6,
        responseFlags: 'NR',
        error: 'no route',
      }),
    ]);
  });
});

describe('diagnostics channels', () => {
  it('build nothing when nobody subscribes', () => {
    const build = jest.fn(() => ({ direction: 'inbound' as const, src: 'a', dst: 'b', reason: 'test' }));
    expect(Diagnostics.policyDeny.hasSubscribers).toBe(false);
    Diagnostics.policyDeny.publishWith(build);
    expect(build).not.toHaveBeenCalled();
    const seen: unknown[] = [];
    const off = Diagnostics.policyDeny.subscribe((m) => seen.push(m));
    Diagnostics.policyDeny.publishWith(build);
    off();
    off();
    Diagnostics.policyDeny.publishWith(build);
    expect(build).toHaveBeenCalledTimes(1);
    expect(seen).toEqual([{ direction: 'inbound', src: 'a', dst: 'b', reason: 'test' }]);
    expect(Diagnostics.policyDeny.name).toBe('ambit:policy:deny');
  });
});

describe('agent gauges', () => {
  it('report enrolled pods, certificates by state and HBONE connections', async () => {
    const metrics = createAgentMetrics({ processMetrics: false });
    metrics.setEnrolledPods(3);
    metrics.setCertificates({ valid: 2, pending: 1 });
    let outbound = 1;
    const off = metrics.onGaugeCollect(() => metrics.setHboneConnections('outbound', outbound));
    let text = await metrics.registry.metrics();
    expect(sampleValue(text, 'ambit_agent_enrolled_pods')).toBe(3);
    expect(sampleValue(text, 'ambit_agent_certificates', { state: 'valid' })).toBe(2);
    expect(sampleValue(text, 'ambit_agent_certificates', { state: 'pending' })).toBe(1);
    expect(sampleValue(text, 'ambit_agent_certificates', { state: 'expired' })).toBe(0);
    expect(sampleValue(text, 'ambit_agent_hbone_connections', { direction: 'outbound' })).toBe(1);
    outbound = 0;
    metrics.setCertificates({ valid: 3 });
    text = await metrics.registry.metrics();
    expect(sampleValue(text, 'ambit_agent_hbone_connections', { direction: 'outbound' })).toBe(0);
    off();
    outbound = 7;
    text = await metrics.registry.metrics();
    expect(sampleValue(text, 'ambit_agent_hbone_connections', { direction: 'outbound' })).toBe(0);
    expect(sampleValue(text, 'ambit_agent_certificates', { state: 'pending' })).toBe(0);
  });

  it('keeps two agents in one process apart (own registry, not the global one)', async () => {
    const a = createAgentMetrics({ processMetrics: false });
    const b = createAgentMetrics({ processMetrics: false });
    a.setEnrolledPods(5);
    expect(sampleValue(await b.registry.metrics(), 'ambit_agent_enrolled_pods')).toBe(0);
  });
});
