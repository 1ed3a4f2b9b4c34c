// The waypoint end to end on loopback: a real control plane (YAML-shaped objects -> translation ->
// ConfigService), the waypoint process's code (Waypoint.start) with its plain HTTP listener and its
// HBONE listener, and real HTTP backends on 127.0.0.2x. Checks routing, retries, timeouts, faults,
// authorization and telemetry through the real pipeline.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { BootstrapTokenAuthenticator } from '../../control-plane/auth/bootstrap-token-authenticator';
import { ControlPlane, startControlPlane } from '../../control-plane/control-plane';
import { StaticSource } from '../../control-plane/sources/static-source';
import type { KubeObject } from '../../control-plane/kube/objects';
import { silentLogger } from '../../common/log';
import { HbonePool } from '../../common/hbone/pool';
import { CertificateManager } from '../../common/identity/certificate-manager';
import { loadWaypointConfig } from '../../waypoint/config';
import { Waypoint } from '../../waypoint/waypoint';
import { namespace, object, pod, service } from '../support/kube-fixtures';

jest.setTimeout(30_000);

const NS = 'shop';
const GW = 'gateway.networking.k8s.io/v1';
// Per-process ports: two runs of this file on one machine must not collide.
const BACKEND_PORT = 20000 + (process.pid % 20000);
const RAW_PORT = BACKEND_PORT + 1;
const backendIp = (i: number) => `127.0.0.${21 + i}`;

interface Backend { name: string; server: http.Server; hits: number; mode: 'ok' | 'flaky' | 'slow' | 'teapot' }
const backends: Backend[] = [];

function startBackend(name: string, i: number, mode: Backend['mode'] = 'ok'): Promise<Backend> {
  const b: Backend = { name, server: http.createServer(), hits: 0, mode };
  b.server.on('upgrade', (req, socket) => {
    b.hits++;
    socket.on('error', () => undefined); // the client ends the test by destroying its side
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-backend: ${name}\r\n\r\n`);
    socket.pipe(socket);
  });
  b.server.on('request', (req, res) => {
    b.hits++;
    const send = (status: number) => res.writeHead(status, { 'content-type': 'application/json', 'x-backend': name }).end(JSON.stringify({ backend: name, path: req.url, headers: req.headers }));
    if (b.mode === 'flaky' && b.hits % 2 === 1) return send(503);
    if (b.mode === 'teapot') return send(418);
    if (b.mode === 'slow') return void setTimeout(() => send(200), 1500);
    send(200);
  });
  return new Promise((resolve) => b.server.listen(BACKEND_PORT, backendIp(i), () => resolve(b)));
}

const route = (name: string, parent: string, rules: unknown[]): KubeObject => object('HTTPRoute', GW, name, NS, { parentRefs: [{ group: '', kind: 'Service', name: parent }], rules });

const OBJECTS: KubeObject[] = [
  namespace(NS, { 'istio.io/use-waypoint': 'waypoint' }),
  object('Gateway', GW, 'waypoint', NS, { gatewayClassName: 'ambit-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] }),
  service('waypoint', { namespace: NS, clusterIP: '10.96.0.99', selector: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' }, ports: [{ name: 'mesh', port: 15008 }] }),
  pod('client-1', { namespace: NS, ip: '127.0.0.19', labels: { app: 'client' } }),
  pod('waypoint-1', { namespace: NS, ip: '127.0.0.20', serviceAccount: 'waypoint', labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } }),
  ...['a', 'b', 'c', 'flaky', 'slow', 'teapot'].flatMap((n, i) => [
    service(n, { namespace: NS, clusterIP: `10.96.0.${i + 1}`, ports: [{ name: 'http', port: 80, targetPort: BACKEND_PORT }] }),
    pod(`${n}-1`, { namespace: NS, ip: backendIp(i), labels: { app: n } }),
  ]),
  service('raw', { namespace: NS, clusterIP: '10.96.0.60', selector: { app: 'raw' }, ports: [{ name: 'tcp-raw', port: 7000, targetPort: RAW_PORT, appProtocol: 'tcp' }] }),
  pod('raw-1', { namespace: NS, ip: '127.0.0.30', labels: { app: 'raw' } }),
  service('app', { namespace: NS, clusterIP: '10.96.0.50', selector: { app: 'nothing' }, ports: [{ name: 'http', port: 80, targetPort: BACKEND_PORT }] }),
  route('app-route', 'app', [
    { matches: [{ headers: [{ name: 'x-canary', value: '1' }] }], backendRefs: [{ name: 'c', port: 80 }] },
    { matches: [{ path: { type: 'PathPrefix', value: '/split' } }], backendRefs: [{ name: 'a', port: 80, weight: 90 }, { name: 'b', port: 80, weight: 10 }] },
    { matches: [{ path: { type: 'Exact', value: '/flaky' } }], backendRefs: [{ name: 'flaky', port: 80 }], retry: { attempts: 3, codes: [503], backoff: '5ms' } },
    { matches: [{ path: { type: 'Exact', value: '/teapot' } }], backendRefs: [{ name: 'teapot', port: 80 }], retry: { attempts: 3, codes: [503] } },
    { matches: [{ path: { type: 'Exact', value: '/slow' } }], backendRefs: [{ name: 'slow', port: 80 }], timeouts: { request: '300ms' } },
    {
      matches: [{ path: { type: 'PathPrefix', value: '/v1' } }],
      filters: [
        { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
        { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-added', value: 'yes' }] } },
        { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-resp', value: 'r1' }] } },
      ],
      backendRefs: [{ name: 'a', port: 80 }],
    },
    {
      matches: [{ path: { type: 'Exact', value: '/limited' } }],
      filters: [{ type: 'ExtensionRef', extensionRef: { group: 'ambit.dev', kind: 'LocalRateLimit', name: 'three-per-minute' } }],
      backendRefs: [{ name: 'a', port: 80 }],
    },
    { matches: [{ path: { type: 'Exact', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/new' }, statusCode: 301 } }] },
  ]),
  object('LocalRateLimit', 'ambit.dev/v1alpha1', 'three-per-minute', NS, { maxTokens: 3, tokensPerFill: 3, fillInterval: '60s' }),
  object('AuthorizationPolicy', 'security.istio.io/v1', 'deny-admin', NS, {
    // On the app Service only: a DENY with L7 fields denies all TCP on the ports it covers
    // (Istio's fail-closed conversion), and the raw TCP service below must stay reachable.
    targetRefs: [{ group: '', kind: 'Service', name: 'app' }],
    action: 'DENY',
    rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }],
  }),
];

let dir: string;
let cp: ControlPlane;
let waypoint: Waypoint;
let plainPort: number;
let rawServer: net.Server;
let collector: http.Server;
const exported: Array<Record<string, any>> = [];

function get(p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: plainPort, path: p, headers: { host: `app.${NS}.svc.cluster.local`, ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-wp-'));
  const tokens = new BootstrapTokenAuthenticator(dir);
  const issued = tokens.issueNodeToken('node1');
  cp = await startControlPlane({ sources: [new StaticSource('test', OBJECTS)], stateDir: dir, nodeAuthenticator: tokens, grpcListen: '127.0.0.1:0', httpListen: '127.0.0.1:0', logger: silentLogger });
  collector = http.createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      exported.push(JSON.parse(b));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', () => resolve()));
  rawServer = net.createServer((sock) => sock.on('error', () => undefined).pipe(sock));
  await new Promise<void>((resolve) => rawServer.listen(RAW_PORT, '127.0.0.30', () => resolve()));
  for (const [i, n] of ['a', 'b', 'c', 'flaky', 'slow', 'teapot'].entries()) backends.push(await startBackend(n, i, n === 'flaky' ? 'flaky' : n === 'slow' ? 'slow' : n === 'teapot' ? 'teapot' : 'ok'));
  const settings = loadWaypointConfig(
    {
      name: `${NS}/waypoint`,
      controlPlane: cp.grpcAddress,
      tokenFile: issued.tokenFile,
      stateDir: path.join(dir, 'waypoint'),
      hboneListen: '127.0.0.1:0',
      plainListen: '127.0.0.1:0',
      adminListen: '127.0.0.1:0',
      metricsListen: '127.0.0.1:0',
      readinessListen: '127.0.0.1:0',
      accessLog: 'off',
      otlpEndpoint: `http://127.0.0.1:${(collector.address() as net.AddressInfo).port}/v1/traces`,
      logLevel: 'silent',
    },
    {},
  );
  waypoint = await Waypoint.start(settings, silentLogger);
  plainPort = waypoint.plainPort;
});

afterAll(async () => {
  await waypoint?.close();
  await Promise.all(backends.map((b) => new Promise((r) => b.server.close(r))));
  await new Promise((r) => rawServer?.close(r));
  await new Promise((r) => collector?.close(r));
  await cp?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('routes by header, path prefix and weight (90/10 within ±3 points over 1000 requests)', async () => {
  const canary = await get('/anything', { 'x-canary': '1' });
  expect(canary.status).toBe(200);
  expect(canary.headers['x-backend']).toBe('c');
  const counts: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) {
    const r = await get('/split/x');
    counts[String(r.headers['x-backend'])] = (counts[String(r.headers['x-backend'])] ?? 0) + 1;
  }
  expect(counts.a / 1000).toBeGreaterThan(0.87);
  expect(counts.a / 1000).toBeLessThan(0.93);
  expect(counts.a + counts.b).toBe(1000);
});

it('answers 404 with a clear body when no rule matches', async () => {
  const r = await get('/nowhere');
  expect(r.status).toBe(404);
  expect(r.body).toMatch(/app-route/);
});

it('retries a backend failing every other request with 503 into success; a 4xx is not retried', async () => {
  let ok = 0;
  for (let i = 0; i < 50; i++) if ((await get('/flaky')).status === 200) ok++;
  expect(ok).toBe(50);
  const before = backends.find((b) => b.name === 'teapot')!.hits;
  expect((await get('/teapot')).status).toBe(418);
  expect(backends.find((b) => b.name === 'teapot')!.hits - before).toBe(1);
});

it('answers 504 when the request timeout expires', async () => {
  const t = Date.now();
  const r = await get('/slow');
  expect(r.status).toBe(504);
  expect(Date.now() - t).toBeLessThan(1200);
});

it('rewrites the path, modifies headers both ways, and redirects', async () => {
  const r = await get('/v1/items?q=1');
  expect(r.status).toBe(200);
  const seen = JSON.parse(r.body) as { path: string; headers: Record<string, string> };
  expect(seen.path).toBe('/v2/items?q=1');
  expect(seen.headers['x-added']).toBe('yes');
  expect(r.headers['x-resp']).toBe('r1');
  const red = await get('/old');
  expect(red.status).toBe(301);
  expect(red.headers.location).toMatch(/\/new$/);
});

it('denies with 403 "RBAC: access denied" under a DENY AuthorizationPolicy', async () => {
  const r = await get('/admin/x', { 'x-canary': '1' });
  expect(r.status).toBe(403);
  expect(r.body).toBe('RBAC: access denied');
});

it('counts requests in istio_requests_total with reporter="waypoint"', async () => {
  const text = await waypoint.telemetry.registry.metrics();
  expect(text).toMatch(/istio_requests_total\{[^}]*reporter="waypoint"[^}]*response_code="200"/);
  expect(text).toMatch(/istio_requests_total\{[^}]*response_code="403"/);
});

it('serves HBONE with its own identity: a mesh client tunnels HTTP to the waypoint', async () => {
  const certsOk = new CertificateManager({ address: cp.grpcAddress, nodeToken: { file: new BootstrapTokenAuthenticator(dir).tokenFile('node1') }, logger: silentLogger });
  const client = await certsOk.acquire({ namespace: NS, serviceAccount: 'default' });
  const pool = new HbonePool();
  try {
    const t = await pool.open({
      scope: 'test',
      source: client,
      destinationAddress: '127.0.0.1',
      destinationPort: waypoint.hbonePort,
      expectedIdentity: `spiffe://cluster.local/ns/${NS}/sa/waypoint`,
      authority: '10.96.0.50:80',
    });
    t.stream.write(`GET /split/hbone HTTP/1.1\r\nhost: app.${NS}.svc.cluster.local\r\nconnection: close\r\n\r\n`);
    let reply = '';
    t.stream.setEncoding('utf8');
    for await (const chunk of t.stream) reply += chunk;
    expect(reply).toMatch(/^HTTP\/1.1 200/);
    expect(reply).toMatch(/x-backend: [ab]/);
  } finally {
    await pool.close();
    certsOk.close();
  }
});

/** Opens a client connection to the waypoint's HBONE listener as a mesh workload would. */
async function meshTunnel(authority: string) {
  const certs = new CertificateManager({ address: cp.grpcAddress, nodeToken: { file: new BootstrapTokenAuthenticator(dir).tokenFile('node1') }, logger: silentLogger });
  const client = await certs.acquire({ namespace: NS, serviceAccount: 'default' });
  const pool = new HbonePool();
  const close = async () => (await pool.close(), certs.close());
  try {
    const t = await pool.open({ scope: 'test', source: client, destinationAddress: '127.0.0.1', destinationPort: waypoint.hbonePort, expectedIdentity: `spiffe://cluster.local/ns/${NS}/sa/waypoint`, authority });
    return { stream: t.stream, close };
  } catch (e) {
    await close();
    throw e;
  }
}

it('refuses a tunnel to an undeclared port of a bound service, and to an address not bound to it', async () => {
  for (const authority of ['10.96.0.50:81', '127.0.0.21:18080']) {
    await expect(meshTunnel(authority)).rejects.toMatchObject({ status: 404 });
  }
});

it('proxies a TCP port (appProtocol tcp) byte for byte through HBONE', async () => {
  const t = await meshTunnel('10.96.0.60:7000');
  try {
    t.stream.end('raw bytes, not HTTP');
    let got = '';
    t.stream.setEncoding('utf8');
    for await (const c of t.stream) got += c;
    expect(got).toBe('raw bytes, not HTTP');
  } finally {
    await t.close();
  }
});

it('passes a WebSocket upgrade through (routed like any request), then relays both ways', async () => {
  const sock = net.connect(plainPort, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write(`GET /split/ws HTTP/1.1\r\nhost: app.${NS}.svc.cluster.local\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
  let got = '';
  sock.setEncoding('utf8');
  sock.on('data', (d) => (got += d));
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 100 && !re.test(got); i++) await new Promise((r) => setTimeout(r, 20));
  };
  await waitFor(/\r\n\r\n/);
  expect(got).toMatch(/^HTTP\/1.1 101/);
  expect(got).toMatch(/x-backend: [ab]/);
  sock.write('ping-after-upgrade');
  await waitFor(/ping-after-upgrade/);
  expect(got).toContain('ping-after-upgrade');
  sock.destroy();
});

it('applies a LocalRateLimit (ExtensionRef): the fourth request in the window gets 429', async () => {
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) codes.push((await get('/limited')).status);
  expect(codes).toEqual([200, 200, 200, 429, 429]);
});

it('continues the client\'s W3C trace and exports a span per request over OTLP/HTTP', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const r = await get('/split/traced', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
  expect(r.status).toBe(200);
  const seen = JSON.parse(r.body) as { headers: Record<string, string> };
  expect(seen.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  const spanOf = () =>
    exported
      .flatMap((e) => e.resourceSpans ?? [])
      .flatMap((rs: any) => rs.scopeSpans ?? [])
      .flatMap((ss: any) => ss.spans ?? [])
      .find((sp: any) => sp.traceId === traceId);
  for (let i = 0; i < 100 && !spanOf(); i++) await new Promise((res) => setTimeout(res, 100));
  const span = spanOf();
  expect(span).toMatchObject({ traceId, parentSpanId: '00f067aa0ba902b7' });
  expect(seen.headers.traceparent).toContain(span.spanId);
});
