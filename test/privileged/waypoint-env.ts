/**
 * The world of the waypoint end-to-end tests (issue 5): `ambit local up` on a directory with two
 * nodes, an ambient namespace `shop` whose services go through the waypoint `shop/waypoint`
 * (istio.io/use-waypoint on the namespace), and unmodified Node apps:
 *
 *   node1: client (sa client), other (namespace guest, sa other), web-v1, mirror
 *   node2: waypoint-0 (ambit waypoint), web-v2, flaky, slow, grpc
 *   Services (shop): web (v1+v2), web-v1, web-v2, flaky, slow, mirror, grpc (appProtocol grpc)
 *
 * Tests add routes and policies as files in the directory (hot reload) and remove them after.
 * Everything a client does runs inside its pod's netns and cgroup, so it is captured by the agent
 * and reaches the waypoint the way real traffic does: pod -> agent -> waypoint -> agent -> pod.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { waypointManifests } from '../../cli/waypoint/waypoint-manifests';
import type { RuntimeRecord, StatusDoc } from '../../cli/local/runtime-record';
import { teardownRuntime } from '../../cli/local/teardown';
import { listLeftovers, type Leftovers } from '../../common/sandbox';
import { ambit, ANY_PORTS } from '../harness';
import { until } from './mesh-env';
import { readJson, type StatePaths } from '../../cli/local/state-dir';
import { execIn, type CleanupStack, type ExecResult } from '../../common/sandbox';
import { projectRoot } from '../../common/project-root';

export type PodView = StatusDoc['pods'][number];

/** HTTP app: answers JSON {pod, version, path, headers}; MODE=flaky fails every other request with 503, DELAY_MS delays. */
export const WEB_APP = `'use strict';
const http = require('node:http');
const pod = process.env.POD_NAME, version = process.env.VERSION || 'v1';
let n = 0;
http.createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200); return res.end('ok'); }
  n++;
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const send = (status) => { res.writeHead(status, { 'content-type': 'application/json', 'x-pod': pod }); res.end(JSON.stringify({ pod, version, path: req.url, method: req.method, headers: req.headers, n, body: body.length })); };
    if (process.env.MODE === 'flaky' && n % 2 === 1) return send(503);
    if (req.url.startsWith('/status/')) return send(Number(req.url.slice(8)) || 500);
    const delay = Number(process.env.DELAY_MS || 0);
    if (delay > 0 && !req.url.startsWith('/fast')) return setTimeout(() => send(200), delay);
    send(200);
  });
}).listen({ port: 8080, host: '::' });
process.on('SIGTERM', () => process.exit(0));
`;

/** gRPC server with two methods on a service defined by a JSON descriptor (no .proto file needed). */
export const GRPC_APP = `'use strict';
const grpc = require('@grpc/grpc-js');
const pod = process.env.POD_NAME;
const ser = (o) => Buffer.from(JSON.stringify(o)), de = (b) => JSON.parse(b.toString());
const method = (name) => ({ path: '/demo.Echo/' + name, requestStream: false, responseStream: false, requestSerialize: ser, requestDeserialize: de, responseSerialize: ser, responseDeserialize: de });
const server = new grpc.Server();
server.addService({ Hello: method('Hello'), Fail: method('Fail') }, {
  Hello: (call, cb) => cb(null, { pod, said: call.request.name }),
  Fail: (call, cb) => cb({ code: grpc.status.FAILED_PRECONDITION, details: 'asked to fail' }),
});
server.bindAsync('[::]:9090', grpc.ServerCredentials.createInsecure(), () => {});
process.on('SIGTERM', () => process.exit(0));
`;

const SLEEPER = `command: [node, -e, "setInterval(() => {}, 1e6)"]`;

const webPod = (name: string, node: string, labels: Record<string, string>, env: Record<string, string> = {}): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: shop
  labels: ${JSON.stringify(labels)}
spec:
  nodeName: ${node}
  serviceAccountName: ${labels.app}
  containers:
    - name: app
      command: [node, app/web.js]
      env: ${JSON.stringify(Object.entries(env).map(([k, v]) => ({ name: k, value: v })))}
      readinessProbe:
        httpGet: { path: /healthz, port: 8080 }
        periodSeconds: 1
`;

const svc = (name: string, selector: Record<string, string>, port = 80, target = 8080, appProtocol?: string): string => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: shop }
spec:
  selector: ${JSON.stringify(selector)}
  ports:
    - { name: ${appProtocol ?? 'http'}, port: ${port}, targetPort: ${target}${appProtocol ? `, appProtocol: ${appProtocol}` : ''} }
`;

export function worldFiles(): Record<string, string> {
  return {
    'namespaces.yaml': `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: { istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint }
---
apiVersion: v1
kind: Namespace
metadata:
  name: guest
  labels: { istio.io/dataplane-mode: ambient }
`,
    'waypoint.yaml': waypointManifests({ name: 'waypoint', namespace: 'shop', node: 'node2' })
      .map((d) => YAML.stringify(d))
      .join('---\n'),
    'services.yaml': [
      svc('web', { app: 'web' }),
      svc('web-v1', { app: 'web', version: 'v1' }),
      svc('web-v2', { app: 'web', version: 'v2' }),
      svc('flaky', { app: 'flaky' }),
      svc('slow', { app: 'slow' }),
      svc('mirror', { app: 'mirror' }),
      svc('grpc', { app: 'grpc' }, 9090, 9090, 'grpc'),
    ].join('---\n'),
    'pods.yaml': [
      webPod('web-v1', 'node1', { app: 'web', version: 'v1' }, { VERSION: 'v1' }),
      webPod('web-v2', 'node2', { app: 'web', version: 'v2' }, { VERSION: 'v2' }),
      webPod('flaky', 'node2', { app: 'flaky' }, { MODE: 'flaky' }),
      webPod('slow', 'node2', { app: 'slow' }, { DELAY_MS: '1500' }),
      webPod('mirror', 'node1', { app: 'mirror' }),
      `apiVersion: v1
kind: Pod
metadata: { name: grpc, namespace: shop, labels: { app: grpc } }
spec:
  nodeName: node2
  serviceAccountName: grpc
  containers:
    - name: app
      command: [node, app/grpc.js]
      env: [{ name: NODE_PATH, value: ${JSON.stringify(path.join(projectRoot(), 'node_modules'))} }]
`,
      `apiVersion: v1
kind: Pod
metadata: { name: client, namespace: shop, labels: { app: client } }
spec:
  nodeName: node1
  serviceAccountName: client
  containers:
    - name: app
      ${SLEEPER}
`,
      `apiVersion: v1
kind: Pod
metadata: { name: other, namespace: guest, labels: { app: other } }
spec:
  nodeName: node1
  serviceAccountName: other
  containers:
    - name: app
      ${SLEEPER}
`,
    ].join('---\n'),
  };
}

export function writeWorld(dir: string): void {
  fs.mkdirSync(path.join(dir, 'app'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'app', 'web.js'), WEB_APP);
  fs.writeFileSync(path.join(dir, 'app', 'grpc.js'), GRPC_APP);
  for (const [f, text] of Object.entries(worldFiles())) fs.writeFileSync(path.join(dir, f), text);
}

export class WaypointWorld {
  constructor(
    readonly dir: string,
    readonly paths: StatePaths,
    readonly cleanup: CleanupStack,
  ) {}

  status(): StatusDoc | undefined {
    return readJson<StatusDoc>(this.paths.status, 1);
  }

  pod(name: string): PodView {
    const p = this.status()?.pods.find((x) => x.name === name);
    if (!p) throw new Error(`no pod ${name} in status.json`);
    return p;
  }

  vip(service: string): string {
    const s = this.status()?.services.find((x) => x.name === service && x.namespace === 'shop');
    if (!s) throw new Error(`no service shop/${service}`);
    return s.clusterIP;
  }

  /** Writes (or replaces) a file of the directory; the runtime and control plane hot-reload it. */
  apply(file: string, text: string): void {
    fs.writeFileSync(path.join(this.dir, file), text);
  }

  remove(file: string): void {
    fs.rmSync(path.join(this.dir, file), { force: true });
  }

  waypointLog(): Array<Record<string, unknown>> {
    const file = path.join(this.paths.logs, 'shop_waypoint-0_waypoint.log');
    if (!fs.existsSync(file)) return [];
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  }

  /** Runs a Node script inside a pod (netns + cgroup: captured like the pod's own apps). */
  async script<T>(pod: string, script: string, args: string[], timeoutMs = 60_000): Promise<T> {
    const p = this.pod(pod);
    const r: ExecResult = await execIn({ netnsPath: `/run/netns/${p.netns}`, cgroupPath: p.cgroupPath! }, this.cleanup, process.execPath, ['-e', script, ...args], {
      timeoutMs,
      env: { ...process.env, NODE_PATH: path.join(projectRoot(), 'node_modules') },
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (!line.startsWith('{') && !line.startsWith('[')) throw new Error(`script in ${pod} printed nothing useful (code ${r.code}): ${r.stderr || r.stdout}`);
    return JSON.parse(line) as T;
  }
}

/**
 * argv: url, count, headers JSON, method. Sequential requests on fresh connections; prints
 * {results: [{status, pod, version, headers(resp), body}], ms}.
 */
export const REQUESTS_JS = `
const http = require('http');
const [url, count, headersJson, method] = process.argv.slice(1);
const headers = JSON.parse(headersJson || '{}');
(async () => {
  const t0 = Date.now();
  const results = [];
  for (let i = 0; i < Number(count); i++) {
    results.push(await new Promise((resolve) => {
      const t = Date.now();
      const req = http.request(url, { method: method || 'GET', headers, agent: false, timeout: 10000 }, (r) => {
        let b = '';
        r.on('data', (d) => (b += d));
        r.on('end', () => { let j = {}; try { j = JSON.parse(b); } catch {} resolve({ status: r.statusCode, pod: j.pod, version: j.version, seen: j.headers, resp: r.headers, text: j.pod ? undefined : b.slice(0, 300), ms: Date.now() - t }); });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ error: e.code || e.message, ms: Date.now() - t }));
      req.end();
    }));
  }
  console.log(JSON.stringify({ results, ms: Date.now() - t0 }));
})();
`;

export interface RequestResult {
  status?: number;
  pod?: string;
  version?: string;
  seen?: Record<string, string>;
  resp?: Record<string, string>;
  text?: string;
  error?: string;
  ms: number;
}

/**
 * `ambit local up` on the world's directory, then waits until `pods` pods are ready and `warm()`
 * (a first request through the waypoint) succeeds: the whole chain is up.
 */
export async function upWorld(world: WaypointWorld, pods: number, warm: () => Promise<boolean>): Promise<void> {
  const r = await ambit(['local', 'up', '-f', world.dir, '--state-dir', world.paths.dir, '--wait', '60', ...ANY_PORTS], 180_000);
  if (r.code !== 0) throw new Error(`ambit local up failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  await until('every pod ready (the waypoint included)', () => {
    const doc = world.status();
    return doc !== undefined && doc.pods.length === pods && doc.pods.every((p) => p.ready);
  }, 90_000, 300);
  await until('a request through the waypoint to succeed', warm, 60_000, 500);
}

/**
 * Stops what the test started, tears the runtime down as `ambit local down` does (also after a
 * failure half-way) and removes `tmp`; returns what the runtime left behind (must be nothing).
 */
export async function downWorld(world: WaypointWorld, tmp: string): Promise<Leftovers | undefined> {
  let rec: RuntimeRecord | undefined;
  try {
    await world.cleanup.runAll();
  } finally {
    try {
      rec = readJson<RuntimeRecord>(world.paths.runtime, 1);
    } catch {
      // reported by teardownRuntime
    }
    await teardownRuntime(world.paths, { print: () => {} });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return rec ? listLeftovers(rec.prefix) : undefined;
}
