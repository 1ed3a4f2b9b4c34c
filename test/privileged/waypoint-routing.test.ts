/**
 * The waypoint end to end (issue 5), through the real path pod -> agent -> waypoint -> agent -> pod:
 * `ambit local up` with two nodes, the waypoint pod running `ambit waypoint` on node2, and unmodified
 * Node apps (waypoint-env.ts). This file: traffic reaches the waypoint and is routed (path, header,
 * method, weighted split, gRPC method), and the destination only takes bound traffic from the
 * waypoint.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { statePaths } from '../../cli/local/state-dir';
import { CleanupStack } from '../../common/sandbox';
import { requirePrivileged } from '../harness';
import YAML from 'yaml';
import { waypointManifests } from '../../cli/waypoint/waypoint-manifests';
import { mintMeshLeaf } from './lifecycle-env';
import { until } from './mesh-env';
import { REQUESTS_JS, WaypointWorld, writeWorld, type RequestResult, upWorld, downWorld } from './waypoint-env';

jest.setTimeout(120_000);

const route = (name: string, parent: string, rules: string): string => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: shop }
spec:
  parentRefs: [{ group: "", kind: Service, name: ${parent}, port: 80 }]
  rules:
${rules}`;

describe('waypoint: routing through pod -> agent -> waypoint -> agent -> pod', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-waypoint-'));
  const config = path.join(tmp, 'config');
  const paths = statePaths(path.join(tmp, 'state'));
  const cleanup = new CleanupStack();
  const world = new WaypointWorld(config, paths, cleanup);
  const get = async (pod: string, url: string, count = 1, headers: Record<string, string> = {}, method = 'GET') =>
    (await world.script<{ results: RequestResult[] }>(pod, REQUESTS_JS, [url, String(count), JSON.stringify(headers), method], 30_000 + count * 200)).results;

  beforeAll(async () => {
    requirePrivileged();
    writeWorld(config);
    await upWorld(world, 9, async () => (await get('client', `http://${world.vip('web')}/warmup`))[0].status === 200);
  });

  afterAll(async () => {
    const left = await downWorld(world, tmp);
    if (left) expect(left).toEqual({ netns: [], cgroups: [], pins: [] });
  }, 60_000);

  it('the waypoint pod is not captured, and a service call goes through it (reporter="waypoint" access log)', async () => {
    expect(world.pod('waypoint-0').enrolled).toBe('not ambient');
    const [r] = await get('client', `http://${world.vip('web')}/hello`);
    expect(r.status).toBe(200);
    const line = await until('the waypoint to log the request', () => world.waypointLog().find((l) => l.path === '/hello'), 10_000);
    expect(line).toMatchObject({ method: 'GET', response_code: 200 });
    expect(String(line['src.identity'] ?? '')).toContain('ns/shop/sa/client');
  });

  it('routes by path, header and method; splits 90/10 within ±3 points over 2000 requests', async () => {
    world.apply(
      'route-web.yaml',
      route(
        'web',
        'web',
        `    - matches: [{ path: { type: PathPrefix, value: /v2 } }]
      backendRefs: [{ name: web-v2, port: 80 }]
    - matches: [{ headers: [{ name: x-version, value: v1 }] }]
      backendRefs: [{ name: web-v1, port: 80 }]
    - matches: [{ method: POST }]
      backendRefs: [{ name: web-v2, port: 80 }]
    - backendRefs: [{ name: web-v1, port: 80, weight: 90 }, { name: web-v2, port: 80, weight: 10 }]
`,
      ),
    );
    const vip = world.vip('web');
    await until('the route to apply', async () => (await get('client', `http://${vip}/v2/x`))[0].version === 'v2' && (await get('client', `http://${vip}/v2/y`))[0].version === 'v2', 20_000, 300);
    expect((await get('client', `http://${vip}/x`, 5, { 'x-version': 'v1' })).every((r) => r.version === 'v1')).toBe(true);
    expect((await get('client', `http://${vip}/x`, 5, {}, 'POST')).every((r) => r.version === 'v2')).toBe(true);
    const split = await get('client', `http://${vip}/split`, 2000);
    const v1 = split.filter((r) => r.version === 'v1').length;
    const v2 = split.filter((r) => r.version === 'v2').length;
    process.stderr.write(`[waypoint] 90/10 split over 2000: v1 ${v1}, v2 ${v2}, failures ${2000 - v1 - v2}\n`);
    expect(v1 + v2).toBe(2000);
    expect(Math.abs(v1 / 20 - 90)).toBeLessThanOrEqual(3);
  });

  it('a workload-bound waypoint (waypoint-for: all) takes pod-IP traffic, and the destination agent refuses a tunnel that bypasses it', async () => {
    world.apply('waypoint.yaml', waypointManifests({ name: 'waypoint', namespace: 'shop', node: 'node2', for: 'all' }).map((d) => YAML.stringify(d)).join('---\n'));
    const v2 = world.pod('web-v2');
    const podIp = v2.podIPs[0];
    await until('pod-IP traffic to reach the waypoint', async () => {
      const [r] = await get('client', `http://${podIp}:8080/by-pod-ip`);
      return r.status === 200 && world.waypointLog().some((l) => l.path === '/by-pod-ip');
    }, 30_000, 500);

    // Bypass: a valid mesh identity (shop/sa/client) opens HBONE straight to web-v2's agent.
    const cert = await mintMeshLeaf(paths.controlPlane, 'shop', 'client');
    const files = path.join(tmp, 'bypass');
    fs.mkdirSync(files, { recursive: true });
    fs.writeFileSync(path.join(files, 'cert.pem'), cert.certChainPem.join(''));
    fs.writeFileSync(path.join(files, 'key.pem'), cert.keyPem);
    fs.writeFileSync(path.join(files, 'ca.pem'), cert.trustBundlePem.join(''));
    const BYPASS = `
const http2 = require('http2'), fs = require('fs');
const [ip, dir] = process.argv.slice(1);
const s = http2.connect('https://' + ip + ':15008', { cert: fs.readFileSync(dir + '/cert.pem'), key: fs.readFileSync(dir + '/key.pem'), ca: fs.readFileSync(dir + '/ca.pem'), rejectUnauthorized: false, ALPNProtocols: ['h2'] });
s.on('error', (e) => { console.log(JSON.stringify({ error: e.message })); process.exit(0); });
const r = s.request({ ':method': 'CONNECT', ':authority': ip + ':8080' });
r.on('response', (h) => { console.log(JSON.stringify({ status: h[':status'], reason: h['ambit-error'] })); process.exit(0); });
r.on('error', (e) => { console.log(JSON.stringify({ error: e.message })); process.exit(0); });
setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(0); }, 8000);
`;
    // From the waypoint's pod: a process there is not captured (it is not ambient).
    const r = await world.script<{ status?: number; reason?: string; error?: string }>('waypoint-0', BYPASS, [podIp, files]);
    process.stderr.write(`[waypoint] bypass attempt: ${JSON.stringify(r)}\n`);
    expect(r.status).toBe(403);
    expect(r.reason).toMatch(/only through its waypoint/);
    world.apply('waypoint.yaml', waypointManifests({ name: 'waypoint', namespace: 'shop', node: 'node2' }).map((d) => YAML.stringify(d)).join('---\n'));
  });
});
