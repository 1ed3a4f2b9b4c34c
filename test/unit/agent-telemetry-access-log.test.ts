// The access log line, captured from a real pino logger: one JSON line per connection at close,
// ztunnel's field names, bytes from the local workload's point of view, identities only under mTLS.
import { createLogger, type LogLevel } from '../../common/log';
import { ACCESS_LOG_MESSAGE, createAccessLog } from '../../agent/telemetry/access-log';
import { connectionLabels, ResponseFlags, type WorkloadLike } from '../../agent/telemetry/connection-labels';
import { createConnectionTelemetry } from '../../agent/telemetry/connection-telemetry';
import { createAgentMetrics } from '../../agent/telemetry/metrics';

const client: WorkloadLike = { name: 'sleep-7d9f', namespace: 'shop', workloadName: 'sleep', serviceAccount: 'sleep' };
const server: WorkloadLike = { name: 'web-5c4b', namespace: 'shop', workloadName: 'web', serviceAccount: 'web' };
const service = { hostname: 'web.shop.svc.cluster.local', name: 'web', namespace: 'shop' };
const START = Date.parse('2025-03-04T05:06:07.089Z');

function setup(level: LogLevel = 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('agent', { level, destination: { write: (s: string) => lines.push(JSON.parse(s)) } });
  let clock = START;
  const telemetry = createConnectionTelemetry({
    metrics: createAgentMetrics({ processMetrics: false }),
    accessLog: createAccessLog(logger),
    now: () => clock,
  });
  return { lines, telemetry, advance: (ms: number) => (clock += ms) };
}

describe('access log', () => {
  it('writes one "connection complete" line per connection at close, with every field', () => {
    const { lines, telemetry, advance } = setup();
    const conn = telemetry.open(
      connectionLabels({
        reporter: 'source',
        source: client,
        destination: server,
        sourcePrincipal: 'spiffe://cluster.local/ns/shop/sa/sleep',
        destinationService: service,
        security: 'mutual_tls',
      }),
      { src: '10.0.0.5:40000', dst: '10.96.0.10:80', hboneAddr: '10.0.0.7:8080', srcName: 'sleep-7d9f', dstName: 'web-5c4b' },
    );
    conn.addReceived(120); // client -> server
    conn.addSent(4096); // server -> client
    expect(lines).toHaveLength(0);
    advance(1234);
    conn.close();
    expect(lines).toHaveLength(1);
    const line = lines[0];
    expect(line).toMatchObject({
      level: 'info',
      name: 'agent',
      component: 'access',
      msg: ACCESS_LOG_MESSAGE,
      start_time: '2025-03-04T05:06:07.089Z',
      duration_ms: 1234,
      direction: 'outbound',
      'src.addr': '10.0.0.5:40000',
      'src.workload': 'sleep-7d9f',
      'src.namespace': 'shop',
      'src.identity': 'spiffe://cluster.local/ns/shop/sa/sleep',
      'dst.addr': '10.96.0.10:80',
      'dst.hbone_addr': '10.0.0.7:8080',
      'dst.service': 'web.shop.svc.cluster.local',
      'dst.workload': 'web-5c4b',
      'dst.namespace': 'shop',
      'dst.identity': 'spiffe://cluster.local/ns/shop/sa/web',
      // Outbound: the local workload is the client, it sent the request bytes.
      bytes_sent: 120,
      bytes_recv: 4096,
      response_flags: '-',
    });
    expect(line.msg).toBe('connection complete');
    expect(line).not.toHaveProperty('error');
    expect(line).not.toHaveProperty('policy');
    conn.close();
    expect(lines).toHaveLength(1);
  });

  it('speaks for the server on inbound lines and falls back to workload names', () => {
    const { lines, telemetry } = setup();
    const conn = telemetry.open(
      connectionLabels({ reporter: 'destination', source: client, destination: server, security: 'mutual_tls' }),
      { src: '10.0.0.5:40000', dst: '10.0.0.7:8080' },
    );
    conn.addReceived(120);
    conn.addSent(4096);
    conn.close();
    expect(lines[0]).toMatchObject({
      direction: 'inbound',
      'src.workload': 'sleep',
      'dst.workload': 'web',
      bytes_sent: 4096,
      bytes_recv: 120,
    });
  });

  it('leaves out identities when the connection was not mutual TLS, and unknown values', () => {
    const { lines, telemetry } = setup();
    telemetry
      .open(connectionLabels({ reporter: 'destination', destination: server, security: 'none' }), {
        src: '192.168.1.9:5555',
        dst: '10.0.0.7:8080',
      })
      .close();
    const line = lines[0];
    expect(line).not.toHaveProperty('src.identity');
    expect(line).not.toHaveProperty('dst.identity');
    expect(line).not.toHaveProperty('src.workload');
    expect(line).not.toHaveProperty('src.namespace');
    expect(line).not.toHaveProperty('dst.service');
    expect(line).not.toHaveProperty('dst.hbone_addr');
  });

  it('logs a denial with its flag and deciding policy', () => {
    const { lines, telemetry } = setup();
    telemetry.failed(
      connectionLabels({ reporter: 'destination', source: client, destination: server, security: 'mutual_tls' }),
      ResponseFlags.DENY,
      { peers: { src: '10.0.0.5:40000', dst: '10.0.0.7:8080' }, policy: 'shop/deny-sleep' },
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      response_flags: 'DENY',
      policy: 'shop/deny-sleep',
      bytes_sent: 0,
      bytes_recv: 0,
      duration_ms: 0,
    });
  });

  it('logs at error with the message and code when the connection failed', () => {
    const { lines, telemetry } = setup();
    const err = Object.assign(new Error('connect refused by 10.0.0.7:8080'), { code: 'ECONNREFUSED' });
    telemetry
      .open(connectionLabels({ reporter: 'source', source: client }), { src: '10.0.0.5:1', dst: '10.96.0.10:80' })
      .close({ responseFlags: ResponseFlags.UPSTREAM_CONNECT_FAILURE, error: err });
    expect(lines[0]).toMatchObject({
      level: 'error',
      msg: 'connection complete',
      response_flags: 'UF',
      error: 'ECONNREFUSED: connect refused by 10.0.0.7:8080',
    });
  });

  it('writes nothing below the logger level, and still writes errors', () => {
    const { lines, telemetry } = setup('warn');
    const labels = connectionLabels({ reporter: 'source' });
    telemetry.open(labels, { src: 'a:1', dst: 'b:2' }).close();
    expect(lines).toHaveLength(0);
    telemetry.open(labels, { src: 'a:1', dst: 'b:2' }).close({ error: 'reset' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', error: 'reset' });
  });
});
