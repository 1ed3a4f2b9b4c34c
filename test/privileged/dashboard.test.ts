/**
 * The live dashboard (issue 6 item 2) end to end: `ambit local up` with the waypoint world (two
 * nodes, the waypoint on node2, unmodified Node apps; waypoint-env.ts) and real traffic between
 * pods through the mesh: client -> web, a Service bound to the waypoint (HTTP edges with p99, some
 * 500s), and other -> web-v1 by pod IP, straight to web-v1's agent (a TCP edge). Then /dashboard
 * is loaded in headless Chromium: the dumped DOM must draw those edges with rps > 0 and show both
 * agents and the waypoint healthy. The screenshot is kept as artifacts/dashboard.png.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { statePaths } from '../../cli/local/state-dir';
import { projectRoot } from '../../common/project-root';
import { CleanupStack } from '../../common/sandbox';
import type { GraphDocument } from '../../control-plane/dashboard/graph-document';
import { requirePrivileged } from '../harness';
import { elementsWith, ensureChromium, pngSize, runChromium } from './dashboard-browser';
import { until } from './mesh-env';
import { REQUESTS_JS, WaypointWorld, writeWorld, type RequestResult, upWorld, downWorld } from './waypoint-env';

jest.setTimeout(240_000);

/**
 * argv: url, stopFile, pauseMs. Sequential requests on fresh connections until stopFile exists (at
 * most 3 minutes); prints {sent, codes}.
 */
const LOAD_JS = `
const http = require('http'), fs = require('fs');
const [url, stopFile, pauseMs] = process.argv.slice(1);
const codes = {};
let sent = 0;
const end = Date.now() + 180000;
const one = () => new Promise((resolve) => {
  const req = http.get(url, { agent: false, timeout: 5000 }, (r) => { r.resume(); r.on('end', () => resolve(r.statusCode)); });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => resolve(e.code || e.message));
});
(async () => {
  while (Date.now() < end && !fs.existsSync(stopFile)) {
    const code = await one();
    sent++;
    codes[code] = (codes[code] || 0) + 1;
    await new Promise((r) => setTimeout(r, Number(pauseMs)));
  }
  console.log(JSON.stringify({ sent, codes }));
})();
`;

const POLICIES = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  action: ALLOW
  rules: [{ from: [{ source: { namespaces: [shop, guest] } }] }]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: strict, namespace: shop }
spec: { mtls: { mode: STRICT } }
`;

const ARTIFACT = path.join(projectRoot(), 'artifacts', 'dashboard.png');

describe('dashboard: the live service graph in headless Chromium', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-dashboard-'));
  const config = path.join(tmp, 'config');
  const paths = statePaths(path.join(tmp, 'state'));
  const cleanup = new CleanupStack();
  const world = new WaypointWorld(config, paths, cleanup);
  const get = async (pod: string, url: string) => (await world.script<{ results: RequestResult[] }>(pod, REQUESTS_JS, [url, '1', '{}', 'GET'], 30_000)).results[0];
  const dashboardUrl = (): string => {
    const cp = world.status()?.controlPlane;
    if (cp?.state !== 'running') throw new Error(`the control plane is not running: ${JSON.stringify(cp)}`);
    return `${cp.httpAddress}/dashboard`;
  };

  beforeAll(async () => {
    requirePrivileged();
    ensureChromium();
    writeWorld(config);
    await upWorld(world, 9, async () => (await get('client', `http://${world.vip('web')}/warmup`)).status === 200);
  });

  afterAll(async () => {
    const left = await downWorld(world, tmp);
    if (left) expect(left).toEqual({ netns: [], cgroups: [], pins: [] });
  }, 60_000);

  it('draws the edges of live traffic with rps, error rate and p99, agents healthy, and keeps a screenshot', async () => {
    const url = dashboardUrl();
    // Policies for the details panel; they allow all the traffic below (the waypoint is in shop).
    world.apply('policies.yaml', POLICIES);
    const web = world.vip('web');
    const v1 = world.pod('web-v1').podIPs[0];
    // Traffic until the file exists (written when the test ends, passed or not).
    const stop = path.join(tmp, 'stop-load');
    type Load = { sent: number; codes: Record<string, number> };
    const loads = [
      world.script<Load>('client', LOAD_JS, [`http://${web}/hello`, stop, '40'], 200_000),
      // 500 is not retried by the waypoint (503 would be): it reaches the client and the metrics.
      world.script<Load>('client', LOAD_JS, [`http://${web}/status/500`, stop, '250'], 200_000),
      world.script<Load>('other', LOAD_JS, [`http://${v1}:8080/direct`, stop, '100'], 200_000),
    ].map((l) => l.catch((e: Error): Load => ({ sent: 0, codes: { [e.message]: 1 } })));
    try {
      await checkDashboard(url);
    } finally {
      fs.writeFileSync(stop, '');
      process.stderr.write(`[dashboard] load: ${JSON.stringify(await Promise.all(loads))}\n`);
    }
  });

  async function checkDashboard(url: string): Promise<void> {

    // The API first: the page shows what it serves, and it tells what is still missing.
    let last: GraphDocument | undefined;
    const edge = (d: GraphDocument, from: string, to: string) => d.edges.find((e) => e.from === from && e.to === to);
    await until('the graph API to show live edges and healthy proxies', async () => {
      last = (await (await fetch(`${url}/api/graph`)).json()) as GraphDocument;
      const ok =
        (edge(last, 'wl:shop/client', 'svc:shop/web')?.p99Ms ?? null) !== null &&
        (edge(last, 'wl:shop/client', 'svc:shop/web')?.rps ?? 0) > 0 &&
        (edge(last, 'wl:shop/client', 'svc:shop/web')?.errorRate ?? 0) > 0 &&
        (edge(last, 'wl:guest/other', 'svc:shop/web')?.rps ?? 0) > 0 &&
        ['node1', 'node2', 'shop/waypoint'].every((n) => last!.proxies.some((p) => p.name === n && p.status === 'healthy')) &&
        (last.nodes.find((n) => n.id === 'wl:shop/web-v1')?.workload?.policies.length ?? 0) === 2;
      return ok ? true : undefined;
    }, 60_000, 1_000).catch((err: Error) => {
      throw new Error(`${err.message}\nlast graph: ${JSON.stringify({ edges: last?.edges, proxies: last?.proxies }, null, 1)}`);
    });
    process.stderr.write(`[dashboard] API edges: ${last!.edges.map((e) => `${e.from} -> ${e.to} ${e.protocol} ${e.rps.toFixed(2)} rps err ${e.errorRate} p99 ${e.p99Ms}`).join('; ')}\n`);

    // "#<node>" opens the page with that workload's details, as a click on it does.
    const { stdout: dom } = await runChromium(`${url}#wl:shop/web-v1`, ['--dump-dom']);
    const edges = elementsWith(dom, 'g', 'data-from');
    const drawn = (from: string, to: string) => edges.find((e) => e['data-from'] === from && e['data-to'] === to);
    const http = drawn('wl:shop/client', 'svc:shop/web');
    expect(http).toMatchObject({ 'data-protocol': 'http' });
    expect(Number(http!['data-rps'])).toBeGreaterThan(0);
    expect(Number(http!['data-p99-ms'])).toBeGreaterThan(0);
    expect(Number(http!['data-error-rate'])).toBeGreaterThan(0);
    const backend = ['wl:shop/web-v1', 'wl:shop/web-v2'].map((w) => drawn('svc:shop/web', w)).filter((e) => e !== undefined);
    expect(backend.some((e) => Number(e!['data-rps']) > 0)).toBe(true);
    // By pod IP, not through the waypoint: the agents' TCP metrics (no p99 without a histogram).
    const tcp = drawn('wl:guest/other', 'svc:shop/web');
    expect(tcp).toMatchObject({ 'data-protocol': 'tcp', 'data-p99-ms': '' });
    expect(Number(tcp!['data-rps'])).toBeGreaterThan(0);
    // Labels are drawn as text, in the issue's form.
    expect(dom).toMatch(/\d+(\.\d+)? rps · \d+(\.\d+)?% err · p99 \d+(\.\d+)? ms/);
    expect(dom).toMatch(/rps · \d+(\.\d+)?% err · p99 n\/a/);

    const rows = elementsWith(dom, 'tr', 'data-name');
    for (const [kind, name] of [['agent', 'node1'], ['agent', 'node2'], ['waypoint', 'shop/waypoint']]) {
      expect(rows.find((r) => r['data-kind'] === kind && r['data-name'] === name)).toMatchObject({ 'data-status': 'healthy' });
    }
    // The details panel: the workload's SPIFFE identity and the policies that apply to it.
    expect(elementsWith(dom, 'dl', 'data-id')).toEqual([{ 'data-id': 'wl:shop/web-v1' }]);
    expect(dom).toContain('<code class="identity">spiffe://cluster.local/ns/shop/sa/web</code>');
    expect(elementsWith(dom, 'li', 'data-policy').map((p) => p['data-policy'])).toEqual(['shop/allow-web', 'shop/strict']);
    expect(dom).toContain('AuthorizationPolicy shop/allow-web: ALLOW, enforced by the node agent');
    expect(dom).toContain('PeerAuthentication shop/strict: STRICT (namespace-wide)');

    fs.mkdirSync(path.dirname(ARTIFACT), { recursive: true });
    fs.rmSync(ARTIFACT, { force: true });
    await runChromium(`${url}#wl:shop/web-v1`, [`--screenshot=${ARTIFACT}`, '--hide-scrollbars']);
    const png = pngSize(ARTIFACT);
    process.stderr.write(`[dashboard] screenshot ${ARTIFACT}: ${png.width}x${png.height}, ${png.bytes} bytes\n`);
    expect(png).toMatchObject({ width: 1400, height: 900 });
    expect(png.bytes).toBeGreaterThan(20_000);
  }
});
