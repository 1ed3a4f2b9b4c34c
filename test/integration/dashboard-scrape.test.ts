// The dashboard over real sockets on 127.0.0.1: config clients subscribe with their metrics_url,
// the control plane lists them, scrapes them on its own schedule and serves the page and the graph.
// A target that never answers is shown unhealthy within the scrape timeout and does not hold up
// the others; a bad metrics_url is reported, and the config stream goes on.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createAgentMetrics } from '../../agent/telemetry/metrics';
import { connectionLabels } from '../../agent/telemetry/connection-labels';
import { startMetricsServer } from '../../common/admin/metrics-server';
import { advertisedMetricsUrl } from '../../common/admin/metrics-url';
import type { HttpEndpoint } from '../../common/admin/http-server';
import { ConfigClient } from '../../common/config-client';
import { BootstrapTokenAuthenticator } from '../../control-plane/auth/bootstrap-token-authenticator';
import { ControlPlane, startControlPlane } from '../../control-plane/control-plane';
import type { GraphDocument } from '../../control-plane/dashboard/graph-document';
import { StaticSource } from '../../control-plane/sources/static-source';
import { namespace, pod, service } from '../support/kube-fixtures';

let stateDir: string;
let cp: ControlPlane;
let metrics: HttpEndpoint;
let silent: net.Server;
const held: net.Socket[] = [];
const clients: ConfigClient[] = [];
const agent = createAgentMetrics({ processMetrics: false });

function subscribe(subscription: ConstructorParameters<typeof ConfigClient>[0]['subscription']): ConfigClient {
  const c = new ConfigClient({ address: cp.grpcAddress, subscription, accept: () => undefined, backoff: { initialMs: 50, maxMs: 200 } });
  clients.push(c);
  void c.start();
  return c;
}

async function until<T>(what: string, get: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const graph = async (): Promise<GraphDocument> => (await (await fetch(`${cp.httpAddress}/dashboard/api/graph`)).json()) as GraphDocument;

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-dashboard-'));
  cp = await startControlPlane({
    sources: [
      new StaticSource('test', [
        namespace('shop', { 'istio.io/dataplane-mode': 'ambient' }),
        pod('client', { namespace: 'shop', ip: '10.0.1.5', labels: { app: 'client' }, serviceAccount: 'client' }),
        pod('web', { namespace: 'shop', ip: '10.0.1.6', node: 'node2', labels: { app: 'web' }, serviceAccount: 'web' }),
        service('web', { namespace: 'shop', clusterIP: '10.96.0.10' }),
      ]),
    ],
    stateDir,
    nodeAuthenticator: new BootstrapTokenAuthenticator(stateDir),
    grpcListen: '127.0.0.1:0',
    httpListen: '127.0.0.1:0',
  });
  metrics = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: agent.registry });
  // Accepts and never answers: a hung target.
  silent = net.createServer((s) => held.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const s of held) s.destroy();
  await new Promise((r) => silent.close(r));
  await metrics.close();
  await cp.close();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

it('advertises a bound address as is, and a wildcard one at an interface address', () => {
  expect(advertisedMetricsUrl({ host: '127.3.4.1', port: 15020 })).toBe('http://127.3.4.1:15020/metrics');
  const ifaces = { lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }], eth0: [{ address: 'fe80::1', family: 'IPv6', internal: false }, { address: '198.18.2.14', family: 'IPv4', internal: false }] } as unknown as ReturnType<typeof os.networkInterfaces>;
  expect(advertisedMetricsUrl({ host: '0.0.0.0', port: 15020 }, ifaces)).toBe('http://198.18.2.14:15020/metrics');
  const v6only = { eth0: [{ address: 'fd00:a3b1:2::14', family: 'IPv6', internal: false }] } as unknown as ReturnType<typeof os.networkInterfaces>;
  expect(advertisedMetricsUrl({ host: '::', port: 15020 }, v6only)).toBe('http://[fd00:a3b1:2::14]:15020/metrics');
});

it('scrapes every subscribed client; a hung or misconfigured one is shown unhealthy without holding up the others', async () => {
  const opened = connectionLabels({ reporter: 'source', source: { name: 'client', namespace: 'shop', workloadName: 'client' }, destination: { name: 'web', namespace: 'shop', workloadName: 'web' }, destinationService: { name: 'web', namespace: 'shop', hostname: 'web.shop.svc.cluster.local' } });
  agent.opened.inc(opened, 3);
  const agentUrl = advertisedMetricsUrl(metrics.address)!;
  subscribe({ node: 'node1', metricsUrl: () => agentUrl });
  subscribe({ waypoint: 'shop/waypoint', metricsUrl: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/metrics` });
  const bad = subscribe({ node: 'node3', metricsUrl: 'ftp://127.0.0.1/metrics' });

  const listed = await until('three clients in /debug/clients', async () => {
    const list = (await (await fetch(`${cp.httpAddress}/debug/clients`)).json()) as Array<Record<string, unknown>>;
    return list.length === 3 ? list : undefined;
  });
  expect(listed.find((c) => c.node === 'node1')?.metricsUrl).toBe(agentUrl);
  expect(listed.find((c) => c.node === 'node3')?.metricsUrlProblem).toMatch(/must be http:\/\/host:port\/path/);
  expect(await bad.ready()).toBe(true); // its config stream is not refused

  const t0 = Date.now();
  const first = await graph();
  // The first request waits one round; the hung target costs at most its 1.5 s timeout.
  expect(Date.now() - t0).toBeLessThan(4000);
  const row = (name: string) => first.proxies.find((p) => p.name === name);
  expect(row('node1')).toMatchObject({ kind: 'agent', status: 'healthy', metricsUrl: agentUrl });
  expect(row('shop/waypoint')).toMatchObject({ kind: 'waypoint', status: 'unhealthy', detail: 'no answer within 1500 ms' });
  expect(row('node3')).toMatchObject({ status: 'unhealthy', detail: expect.stringMatching(/ftp:/) });
  expect(row('node2')).toMatchObject({ status: 'no agent' });

  // Traffic between two scrapes becomes a rate on the edge.
  agent.opened.inc(opened, 20);
  const live = await until('a live edge client -> web', async () => {
    const doc = await graph();
    const e = doc.edges.find((x) => x.from === 'wl:shop/client' && x.to === 'svc:shop/web');
    return e !== undefined && e.rps > 0 ? e : undefined;
  });
  expect(live).toMatchObject({ protocol: 'tcp', total: 23, p99Ms: null });
  expect(live.rps).toBeGreaterThan(0);
});

it('serves the page and its assets with a policy that keeps it self-contained', async () => {
  const page = await fetch(`${cp.httpAddress}/dashboard`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
  const html = await page.text();
  expect(html).toContain('<script src="/dashboard/app.js"></script>');
  expect(html).not.toMatch(/(src|href)="https?:/);
  const js = await fetch(`${cp.httpAddress}/dashboard/app.js`);
  expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect(await js.text()).toContain('/dashboard/api/graph');
  expect((await fetch(`${cp.httpAddress}/dashboard/app.css`)).status).toBe(200);
});
