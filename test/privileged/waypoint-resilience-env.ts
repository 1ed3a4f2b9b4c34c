/**
 * Additions to the waypoint world (waypoint-env.ts) for the resilience tests, written into the same
 * directory before `ambit local up`:
 *
 *   node1: od-a (healthy), grpc-b (second gRPC backend)     node2: od-b (fails while its flag file exists)
 *   Services (shop): od (od-a + od-b), grpc-b (appProtocol grpc)
 *
 * and the client-side scripts the tests run inside the client pod: a load generator that can run
 * requests concurrently and tags each with an x-request-id (to join client results with the
 * waypoint's access log), and a gRPC client.
 */
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../common/project-root';

/** Pods the resilience world adds to waypoint-env.ts's nine. */
export const EXTRA_PODS = 3;

/**
 * HTTP app like WEB_APP, but it answers 503 while the file FAIL_FILE exists, so a test can make one
 * endpoint of a service fail and heal it again without restarting it (readiness stays green: only
 * outlier detection can take it out of the balancer).
 */
export const SWITCH_APP = `'use strict';
const fs = require('node:fs');
const http = require('node:http');
const pod = process.env.POD_NAME;
let n = 0;
http.createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200); return res.end('ok'); }
  n++;
  req.resume();
  req.on('end', () => {
    const status = process.env.FAIL_FILE && fs.existsSync(process.env.FAIL_FILE) ? 503 : 200;
    res.writeHead(status, { 'content-type': 'application/json', 'x-pod': pod });
    res.end(JSON.stringify({ pod, n, path: req.url }));
  });
}).listen({ port: 8080, host: '::' });
process.on('SIGTERM', () => process.exit(0));
`;

/** gRPC server like GRPC_APP whose answers name the pod: Hello echoes the metadata it got, Fail names the pod in its details. */
export const GRPC_ECHO_APP = `'use strict';
const grpc = require('@grpc/grpc-js');
const pod = process.env.POD_NAME;
const ser = (o) => Buffer.from(JSON.stringify(o)), de = (b) => JSON.parse(b.toString());
const method = (name) => ({ path: '/demo.Echo/' + name, requestStream: false, responseStream: false, requestSerialize: ser, requestDeserialize: de, responseSerialize: ser, responseDeserialize: de });
const server = new grpc.Server();
server.addService({ Hello: method('Hello'), Fail: method('Fail') }, {
  Hello: (call, cb) => cb(null, { pod, said: call.request.name, seen: call.metadata.getMap() }),
  Fail: (call, cb) => cb({ code: grpc.status.FAILED_PRECONDITION, details: pod + ': asked to fail' }),
});
server.bindAsync('[::]:9090', grpc.ServerCredentials.createInsecure(), () => {});
process.on('SIGTERM', () => process.exit(0));
`;

/** The flag file that makes od-b fail (relative paths in pods resolve against the directory). */
export const OD_B_FAIL_FILE = 'app/od-b.fail';

export function writeResilienceWorld(dir: string): void {
  fs.writeFileSync(path.join(dir, 'app', 'switch.js'), SWITCH_APP);
  fs.writeFileSync(path.join(dir, 'app', 'grpc-echo.js'), GRPC_ECHO_APP);
  const switchPod = (name: string, node: string): string => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: shop, labels: { app: od } }
spec:
  nodeName: ${node}
  serviceAccountName: od
  containers:
    - name: app
      command: [node, app/switch.js]
      env: [{ name: FAIL_FILE, value: app/${name}.fail }]
      readinessProbe:
        httpGet: { path: /healthz, port: 8080 }
        periodSeconds: 1
`;
  fs.writeFileSync(
    path.join(dir, 'resilience.yaml'),
    [
      `apiVersion: v1
kind: Service
metadata: { name: od, namespace: shop }
spec:
  selector: { app: od }
  ports:
    - { name: http, port: 80, targetPort: 8080 }
`,
      `apiVersion: v1
kind: Service
metadata: { name: grpc-b, namespace: shop }
spec:
  selector: { app: grpc-b }
  ports:
    - { name: grpc, port: 9090, targetPort: 9090, appProtocol: grpc }
`,
      switchPod('od-a', 'node1'),
      switchPod('od-b', 'node2'),
      `apiVersion: v1
kind: Pod
metadata: { name: grpc-b, namespace: shop, labels: { app: grpc-b } }
spec:
  nodeName: node1
  serviceAccountName: grpc-b
  containers:
    - name: app
      command: [node, app/grpc-echo.js]
      env: [{ name: NODE_PATH, value: ${JSON.stringify(path.join(projectRoot(), 'node_modules'))} }]
`,
    ].join('---\n'),
  );
}

export interface LoadSpec {
  url: string;
  count: number;
  /** Requests in flight at once (default 1: sequential). */
  concurrency?: number;
  headers?: Record<string, string>;
  /** Request i sets header `vary.header` to values[i % values.length]. */
  vary?: { header: string; values: string[] };
  /** Each request i carries x-request-id `${id}-${i}` when set. */
  id?: string;
  /** Pause between sequential requests (concurrency 1 only). */
  gapMs?: number;
  /**
   * Stop early once a response from `pod` was followed by `streak` responses in a row from other
   * pods (concurrency 1 only): the outlier test's "ejected" signal.
   */
  stopAfterStreak?: { pod: string; streak: number };
}

export interface LoadResult {
  i: number;
  /** Epoch ms when the request started (the pods share the host's clock). */
  t: number;
  ms: number;
  status?: number;
  /** x-pod response header, else the JSON body's pod. */
  pod?: string;
  /** The app's request counter (web and switch apps). */
  n?: number;
  /** x-route response header: which route version answered. */
  route?: string;
  error?: string;
}

/** argv: LoadSpec JSON; prints {results: LoadResult[]} ordered by i. */
export const LOAD_JS = `
const http = require('http');
const spec = JSON.parse(process.argv[1]);
const one = (i) => new Promise((resolve) => {
  const t = Date.now();
  const headers = { ...(spec.headers || {}) };
  if (spec.id) headers['x-request-id'] = spec.id + '-' + i;
  if (spec.vary) headers[spec.vary.header] = spec.vary.values[i % spec.vary.values.length];
  const req = http.request(spec.url, { method: 'GET', headers, agent: false, timeout: 15000 }, (r) => {
    let b = '';
    r.on('data', (d) => (b += d));
    r.on('end', () => {
      let j = {};
      try { j = JSON.parse(b); } catch {}
      resolve({ i, t, ms: Date.now() - t, status: r.statusCode, pod: r.headers['x-pod'] || j.pod, n: j.n, route: r.headers['x-route'] });
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => resolve({ i, t, ms: Date.now() - t, error: e.code || e.message }));
  req.end();
});
(async () => {
  const results = [];
  let next = 0;
  let since = -1;
  const worker = async () => {
    while (next < spec.count) {
      const r = await one(next++);
      results.push(r);
      const s = spec.stopAfterStreak;
      if (s) {
        if (r.pod === s.pod) since = 0;
        else if (since >= 0 && r.status !== undefined) since++;
        if (since >= s.streak) return;
      }
      if (spec.gapMs) await new Promise((res) => setTimeout(res, spec.gapMs));
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency || 1 }, worker));
  results.sort((a, b) => a.i - b.i);
  console.log(JSON.stringify({ results }));
})();
`;

export interface GrpcCall {
  method: 'Hello' | 'Fail';
  name?: string;
  metadata?: Record<string, string>;
}

export interface GrpcResult {
  ok: boolean;
  pod?: string;
  said?: string;
  seen?: Record<string, string>;
  code?: number;
  details?: string;
  ms: number;
}

/** argv: target ("ip:port"), calls JSON (GrpcCall[]); one channel, calls in order; prints {results: GrpcResult[]}. */
export const GRPC_CALLS_JS = `
const grpc = require('@grpc/grpc-js');
const [target, callsJson] = process.argv.slice(1);
const ser = (o) => Buffer.from(JSON.stringify(o)), de = (b) => JSON.parse(b.toString());
const client = new grpc.Client(target, grpc.credentials.createInsecure());
(async () => {
  const results = [];
  for (const c of JSON.parse(callsJson)) {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(c.metadata || {})) md.set(k, v);
    const t = Date.now();
    results.push(await new Promise((resolve) => {
      client.makeUnaryRequest('/demo.Echo/' + c.method, ser, de, { name: c.name || 'ambit' }, md, { deadline: Date.now() + 10000 }, (err, res) => {
        if (err) resolve({ ok: false, code: err.code, details: err.details, ms: Date.now() - t });
        else resolve({ ok: true, pod: res.pod, said: res.said, seen: res.seen, ms: Date.now() - t });
      });
    }));
  }
  client.close();
  console.log(JSON.stringify({ results }));
})();
`;

/** Nearest-rank percentile of `xs` (p in 0..100). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
