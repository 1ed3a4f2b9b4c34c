/**
 * The waypoint's HTTP/1 keep-alive pool over HBONE tunnels (waypoint/upstream/upstream-exchange.ts)
 * against a destination-agent-like HBONE server that relays each tunnel to a real HTTP app, on
 * 127.x.y.z:15008 with real mTLS. Regression for `ambit local down` of the demo taking 20 s: when
 * the app closed a pooled connection (or exited), its FIN reached the waypoint as END_STREAM, but
 * the tunnel stayed half-open in the pool until the idle timeout, keeping the destination agent's
 * tunnel (and its connection-table entry) open meanwhile — and was handed the next request.
 */
import { randomInt } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { HbonePool } from '../../common/hbone/pool';
import { relay, type RelayResult } from '../../common/hbone/relay';
import { createHboneServer } from '../../common/hbone/server';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import { Ports } from '../../common/ports';
import type { ServiceEndpoint, Workload } from '../../waypoint/model/waypoint-view';
import { UpstreamConnector } from '../../waypoint/upstream/connector';
import { UpstreamExchanges, type UpstreamResponse } from '../../waypoint/upstream/upstream-exchange';
import { cleanupAfterEach, dialTunnelTarget, issueTestPair } from '../support/hbone-fixture';

let serverCert: WorkloadCertificate;
let waypointCert: WorkloadCertificate;
const cleanups = cleanupAfterEach();

beforeAll(async () => {
  // serverCert: bookinfo/reviews (the endpoint); clientCert plays the waypoint.
  ({ serverCert, clientCert: waypointCert } = await issueTestPair());
});

function workload(address: string): Workload {
  return {
    uid: 'Kubernetes//Pod/bookinfo/reviews-v1',
    name: 'reviews-v1',
    namespace: 'bookinfo',
    serviceAccount: 'reviews',
    node: 'node1',
    addresses: [address],
    labels: {},
    protocol: 'HBONE',
    waypoint: null,
    ready: true,
    trustDomain: 'cluster.local',
    canonicalName: 'reviews',
    canonicalRevision: 'v1',
    workloadName: 'reviews-v1',
    authorizationPolicies: [],
    isWaypoint: false,
  };
}

interface Endpoint {
  ep: ServiceEndpoint;
  app: http.Server;
  /** The destination side's relays, one per tunnel. */
  relays: Array<Promise<RelayResult>>;
}

/** An HTTP app and, on its address:15008, the destination agent relaying tunnels to it. */
async function endpoint(): Promise<Endpoint> {
  // An address of its own on loopback, so the connector's fixed port 15008 is free.
  const address = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
  const app = http.createServer((req, res) => res.end(`hello ${req.url ?? ''}`));
  // Keep-alive far longer than the test: only the close the test makes ends a connection.
  app.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => app.listen(0, address, r));
  cleanups.push(() => {
    app.closeAllConnections();
    return new Promise((r) => app.close(r));
  });
  const appPort = (app.address() as net.AddressInfo).port;
  const relays: Endpoint['relays'] = [];
  const hbone = createHboneServer({
    certificate: serverCert,
    onTunnel: (req) => {
      dialTunnelTarget(req, (upstream) => relays.push(relay(req.accept(), upstream)));
    },
  });
  await hbone.listen({ port: Ports.hbone, host: address });
  cleanups.push(() => hbone.close());
  return { ep: { uid: 'reviews-v1', address, port: appPort, workload: workload(address), hbone: true }, app, relays };
}

function exchanges(): UpstreamExchanges {
  const pool = new HbonePool();
  // A 60 s idle timeout: the pool must not wait for it to notice a connection the app closed.
  const ex = new UpstreamExchanges(new UpstreamConnector({ pool, certificate: () => waypointCert, connectTimeoutMs: 5_000 }), 60_000);
  cleanups.push(() => {
    ex.close();
    pool.close();
  });
  return ex;
}

async function get(ex: UpstreamExchanges, e: Endpoint, path: string): Promise<{ status: number; body: string }> {
  const res: UpstreamResponse = await ex.send(e.ep, 'http1', { method: 'GET', path, authority: 'reviews:9080', headers: {}, body: undefined, timeoutMs: 5_000 });
  let body = '';
  for await (const chunk of res.body) body += (chunk as Buffer).toString();
  return { status: res.status, body };
}

function within<T>(ms: number, p: Promise<T>): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed out'>((r) => (timer = setTimeout(() => r('timed out'), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('waypoint HTTP/1 over pooled HBONE tunnels', () => {
  it('drops a pooled tunnel as soon as the app closes the connection, and serves the next request on a fresh one', async () => {
    const e = await endpoint();
    const ex = exchanges();
    // Three at once: three tunnels, then idle in the keep-alive pool.
    const first = await Promise.all([get(ex, e, '/a'), get(ex, e, '/b'), get(ex, e, '/c')]);
    expect(first).toEqual([
      { status: 200, body: 'hello /a' },
      { status: 200, body: 'hello /b' },
      { status: 200, body: 'hello /c' },
    ]);
    expect(e.relays).toHaveLength(3);

    // The app closes its idle connections (a restart, a pod going away): FIN on each.
    e.app.closeIdleConnections();

    // Each tunnel ends cleanly both ways, long before any idle timeout.
    const ended = await within(2_000, Promise.all(e.relays));
    expect(ended).not.toBe('timed out');
    for (const r of ended as RelayResult[]) expect(r).toMatchObject({ error: undefined, firstClosed: 'b' });

    // The next request does not land on a dead tunnel.
    expect(await get(ex, e, '/after')).toEqual({ status: 200, body: 'hello /after' });
    expect(e.relays).toHaveLength(4);
  });
});
