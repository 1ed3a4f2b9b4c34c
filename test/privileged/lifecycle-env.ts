/**
 * The world of agent-lifecycle.test.ts: a YAML directory for `ambit local up` (two ambient
 * namespaces, a server on node2, two sleeping clients on node1), the small Node apps the pods run,
 * and helpers to read what the runtime and its agents report (status.json, agent logs, admin
 * endpoints). Everything the apps do is plain TCP/HTTP: they know nothing of the mesh.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { StatusDoc } from '../../cli/local/runtime-record';
import { readJson, type StatePaths } from '../../cli/local/state-dir';
import { spiffeId } from '../../common/identity/spiffe';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import { toPem, x509 } from '../../common/identity/x509';
import type { Placement } from '../../common/sandbox';
import { signLeaf } from '../../control-plane/ca/leaf';
import { loadRoot } from '../../control-plane/ca/root';
import { rootFiles } from '../../control-plane/ca/root-store';

export const SERVER_HTTP_PORT = 8080;
export const SERVER_TCP_PORT = 9000;

/** The server: HTTP on 8080 (`/healthz`, anything else answers who asked), TCP echo on 9000. */
const SERVER_JS = `'use strict';
const http = require('http');
const net = require('net');
const say = (o) => console.log(JSON.stringify({ t: Date.now(), ...o }));
http
  .createServer((req, res) => {
    if (req.url === '/healthz') return res.end('ok');
    let bytes = 0;
    req.on('data', (d) => (bytes += d.length));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ pod: process.env.POD_NAME, url: req.url, from: req.socket.remoteAddress, bytes }));
    });
  })
  .listen(${SERVER_HTTP_PORT}, () => say({ event: 'listening' }));
net
  .createServer((s) => {
    say({ event: 'tcp', from: s.remoteAddress });
    s.on('error', () => {});
    s.pipe(s);
  })
  .listen(${SERVER_TCP_PORT});
`;

/** Connects to the server's Service as its very first act, logs the outcome, then idles. */
const STARTER_JS = `'use strict';
const http = require('http');
const url = 'http://' + process.env.SERVER_SERVICE_HOST + ':${SERVER_HTTP_PORT}/first-connection';
const t = Date.now();
http
  .get(url, (r) => {
    let b = '';
    r.on('data', (d) => (b += d));
    r.on('end', () => console.log(JSON.stringify({ first: 'ok', status: r.statusCode, body: JSON.parse(b), started: t, ms: Date.now() - t })));
  })
  .on('error', (e) => console.log(JSON.stringify({ first: 'error', code: e.code, message: e.message, started: t })));
setInterval(() => {}, 1e6);
`;

/**
 * A long-lived TCP connection to the echo port (run with spawnIn in a client pod): writes a
 * numbered line every periodMs, checks that the echo is exactly what it sent, and prints one
 * JSON line per event: {ev:'connected'}, {ev:'tick', sent, echoed}, {ev:'closed', sent, echoed,
 * error, mismatch} when the connection ends, or on SIGTERM (stop writing, wait up to 2 s for the
 * echo to catch up) {ev:'final', sent, echoed, error, mismatch, open}. Every line carries t (ms).
 * argv: host port periodMs [padBytes]
 */
export const STREAM_CLIENT_JS = `'use strict';
const net = require('net');
const [host, port, period, size] = process.argv.slice(1);
const pad = 'x'.repeat(Number(size || 0));
const out = (o) => process.stdout.write(JSON.stringify({ t: Date.now(), ...o }) + '\\n');
let sent = 0, echoed = 0, pending = '', error, mismatch = false, seq = 0, tick, stopping = false;
const state = () => ({ sent, echoed, error, mismatch });
const s = net.connect(Number(port), host, () => {
  out({ ev: 'connected' });
  tick = setInterval(() => {
    const line = seq++ + ':' + pad + '\\n';
    pending += line;
    sent += line.length;
    s.write(line);
    out({ ev: 'tick', sent, echoed });
  }, Number(period));
});
s.setEncoding('utf8');
s.on('data', (d) => {
  if (!pending.startsWith(d)) mismatch = true;
  pending = pending.slice(d.length);
  echoed += d.length;
});
s.on('error', (e) => (error = e.code || e.message));
s.on('close', () => {
  clearInterval(tick);
  if (!stopping) out({ ev: 'closed', ...state() });
  process.exit(0);
});
process.on('SIGTERM', () => {
  stopping = true;
  clearInterval(tick);
  const deadline = Date.now() + 2000;
  const check = () => {
    if (echoed >= sent || s.destroyed || Date.now() > deadline) {
      out({ ev: 'final', ...state(), open: !s.destroyed });
      process.exit(0);
    }
    setTimeout(check, 20);
  };
  check();
});
`;

/**
 * A connection prober (run with spawnIn in a client pod): every periodMs, one GET on a new
 * connection, one JSON line per attempt: {t (start, ms), end, ok, status, code (error), from}.
 * Stops on SIGTERM. argv: host port periodMs
 */
export const CONNECT_PROBE_JS = `'use strict';
const net = require('net');
const [host, port, period] = process.argv.slice(1);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
let stop = false;
process.on('SIGTERM', () => (stop = true));
const once = () =>
  new Promise((resolve) => {
    const t = Date.now();
    let reply = '';
    let failed;
    const s = net.connect(Number(port), host);
    s.setTimeout(2000, () => s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    s.setEncoding('utf8');
    s.on('connect', () => s.write('GET /probe HTTP/1.1\\r\\nHost: probe\\r\\nConnection: close\\r\\n\\r\\n'));
    s.on('data', (d) => (reply += d));
    s.on('error', (e) => (failed = e.code || e.message));
    s.on('close', () => {
      const status = Number((/^HTTP\\/1\\.1 (\\d+)/.exec(reply) || [])[1] || 0);
      out({ t, end: Date.now(), ok: !failed && status === 200, status, code: failed });
      resolve();
    });
  });
(async () => {
  while (!stop) {
    await once();
    await new Promise((r) => setTimeout(r, Number(period)));
  }
  process.exit(0);
})();
`;

/** One GET on a fresh connection; prints {status, body} or {error} (argv: url). */
export const REQUEST_JS = `'use strict';
const url = process.argv[1];
const t = Date.now();
require('http')
  .get(url, { agent: false, timeout: 5000 }, (r) => {
    let body = '';
    r.setEncoding('utf8');
    r.on('data', (d) => (body += d));
    r.on('end', () => console.log(JSON.stringify({ status: r.statusCode, body, ms: Date.now() - t })));
    r.on('error', (e) => console.log(JSON.stringify({ error: e.code || e.message, ms: Date.now() - t })));
  })
  .on('timeout', function () { this.destroy(new Error('timeout')); })
  .on('error', (e) => console.log(JSON.stringify({ error: e.code || e.message, ms: Date.now() - t })));
`;

/**
 * HTTP load: workers loops of GETs, each on a new connection (so every request is a new
 * captured connection and a new HBONE tunnel), until both ms have passed and min requests
 * were made. Prints {ok, failed, errors, first, last}. argv: url ms min workers
 */
export const LOAD_JS = `'use strict';
const http = require('http');
const [url, ms, min, workers] = process.argv.slice(1).map((v, i) => (i === 0 ? v : Number(v)));
const end = Date.now() + ms;
let ok = 0, failed = 0, n = 0;
const errors = {};
const one = () =>
  new Promise((resolve) => {
    const i = n++;
    const req = http.get(url + '?i=' + i, { agent: false, timeout: 5000 }, (r) => {
      let b = '';
      r.on('data', (d) => (b += d));
      r.on('end', () => {
        if (r.statusCode === 200 && b.includes('"pod":"server"')) ok++;
        else (failed++, (errors['status ' + r.statusCode] = (errors['status ' + r.statusCode] || 0) + 1));
        resolve();
      });
      r.on('error', (e) => (failed++, (errors[e.code || e.message] = (errors[e.code || e.message] || 0) + 1), resolve()));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => (failed++, (errors[e.code || e.message] = (errors[e.code || e.message] || 0) + 1), resolve()));
  });
const worker = async () => {
  while (Date.now() < end || n < min) await one();
};
const t0 = Date.now();
Promise.all(Array.from({ length: workers }, worker)).then(() =>
  console.log(JSON.stringify({ ok, failed, errors, first: t0, last: Date.now() })),
);
`;

const namespace = (name: string): string => `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
  labels:
    istio.io/dataplane-mode: ambient
`;

const serviceAccount = (ns: string, name: string): string => `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}
  namespace: ${ns}
`;

/** A pod that only sleeps; its readiness is an exec probe that always passes. */
export const sleeperPod = (ns: string, name: string, sa: string, node: string): string => `${serviceAccount(ns, sa)}---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
  labels: { app: ${name} }
spec:
  nodeName: ${node}
  serviceAccountName: ${sa}
  containers:
    - name: main
      command: [node, -e, "setInterval(()=>{},1e6)"]
      readinessProbe:
        exec: { command: [/bin/true] }
        periodSeconds: 1
`;

const SERVER_YAML = `${serviceAccount('mesh', 'server')}---
apiVersion: v1
kind: Service
metadata:
  name: server
  namespace: mesh
spec:
  selector: { app: server }
  ports:
    - { name: http, port: ${SERVER_HTTP_PORT}, targetPort: ${SERVER_HTTP_PORT} }
    - { name: tcp-echo, port: ${SERVER_TCP_PORT}, targetPort: ${SERVER_TCP_PORT} }
---
apiVersion: v1
kind: Pod
metadata:
  name: server
  namespace: mesh
  labels: { app: server }
spec:
  nodeName: node2
  serviceAccountName: server
  containers:
    - name: server
      command: [node, app/server.js]
      ports:
        - { name: http, containerPort: ${SERVER_HTTP_PORT} }
      readinessProbe:
        httpGet: { path: /healthz, port: http }
        periodSeconds: 1
`;

/** The pod added during the test: its container's first act is a connection to the server. */
export const STARTER_YAML = `${serviceAccount('mesh', 'starter')}---
apiVersion: v1
kind: Pod
metadata:
  name: starter
  namespace: mesh
  labels: { app: starter }
spec:
  nodeName: node1
  serviceAccountName: starter
  containers:
    - name: main
      command: [node, app/starter.js]
      readinessProbe:
        exec: { command: [/bin/true] }
        periodSeconds: 1
`;

/** Istio semantics: DENY from namespace `other` to app=server. */
export const denyOtherPolicy = (name: string): string => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: mesh
spec:
  selector:
    matchLabels: { app: server }
  action: DENY
  rules:
    - from:
        - source:
            namespaces: [other]
`;

/** Istio semantics: once an ALLOW policy selects a workload, whatever it does not allow is denied. */
export const allowOnlyClientPolicy = (name: string): string => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: mesh
spec:
  selector:
    matchLabels: { app: server }
  action: ALLOW
  rules:
    - from:
        - source:
            principals: [cluster.local/ns/mesh/sa/client]
`;

/** Writes the initial YAML directory and the apps into `dir`. */
export function writeWorld(dir: string): void {
  fs.mkdirSync(path.join(dir, 'app'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'app', 'server.js'), SERVER_JS);
  fs.writeFileSync(path.join(dir, 'app', 'starter.js'), STARTER_JS);
  fs.writeFileSync(path.join(dir, 'namespaces.yaml'), `${namespace('mesh')}---\n${namespace('other')}`);
  fs.writeFileSync(path.join(dir, 'server.yaml'), SERVER_YAML);
  fs.writeFileSync(path.join(dir, 'client.yaml'), sleeperPod('mesh', 'client', 'client', 'node1'));
  fs.writeFileSync(path.join(dir, 'other-client.yaml'), sleeperPod('other', 'other-client', 'other', 'node1'));
}

export type PodStatus = StatusDoc['pods'][number];
export type NodeStatus = StatusDoc['nodes'][number];

export class World {
  constructor(readonly paths: StatePaths) {}

  status(): StatusDoc | undefined {
    return readJson<StatusDoc>(this.paths.status, 1);
  }

  pod(name: string): PodStatus | undefined {
    return this.status()?.pods.find((p) => p.name === name);
  }

  node(name: string): NodeStatus | undefined {
    return this.status()?.nodes.find((n) => n.name === name);
  }

  placement(name: string): Placement {
    const p = this.pod(name);
    if (p?.netns === undefined || p.cgroupPath === undefined) throw new Error(`pod ${name} has no sandbox yet`);
    return { netnsPath: `/run/netns/${p.netns}`, cgroupPath: p.cgroupPath };
  }

  agentDir(node: string): string {
    return path.join(this.paths.dir, 'agents', node);
  }

  /** The agent's JSON log lines (all of its processes: the file is appended across restarts). */
  agentLog(node: string): Array<Record<string, unknown>> {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.agentDir(node), 'agent.log'), 'utf8');
    } catch {
      return [];
    }
    const out: Array<Record<string, unknown>> = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line being written
      }
    }
    return out;
  }

  accessLog(node: string): Array<Record<string, unknown>> {
    return this.agentLog(node).filter((l) => l.msg === 'connection complete');
  }

  containerLog(ns: string, pod: string, container: string): string {
    try {
      return fs.readFileSync(path.join(this.paths.logs, `${ns}_${pod}_${container}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  /** http://<agent admin address> for `node`, without the port. */
  agentHost(node: string): string {
    const a = this.node(node)?.agent?.adminAddress;
    if (a === undefined) throw new Error(`node ${node} has no agent in status.json`);
    return new URL(a.includes('://') ? a : `http://${a}`).hostname;
  }
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export function httpGet(url: string, timeoutMs = 5_000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (body += d));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** Sum of a Prometheus metric's samples whose labels include all of `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const close = line.startsWith(`${name}{`) ? line.lastIndexOf('}') : name.length - 1;
    const body = line.slice(name.length + 1, close);
    const got: Record<string, string> = {};
    for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[m[1]] = m[2];
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(line.slice(close + 1).trim());
  }
  return sum;
}

/**
 * A leaf for `ns`/`sa` signed by the running mesh's own root (read from the control plane's state
 * directory, as an attacker with the CA key could), trusting that root.
 */
export async function mintMeshLeaf(controlPlaneDir: string, ns: string, sa: string, trustDomain = 'cluster.local'): Promise<WorkloadCertificate> {
  const files = rootFiles(controlPlaneDir);
  const root = await loadRoot(fs.readFileSync(files.key, 'utf8'), fs.readFileSync(files.cert, 'utf8'), trustDomain, files, new Date());
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const identity = spiffeId(trustDomain, ns, sa);
  const now = Date.now();
  const validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000) };
  const leaf = await signLeaf(root, new x509.PublicKey(spki), identity, validity);
  return Object.freeze({
    identity,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certChainPem: [toPem(leaf)],
    trustBundlePem: [root.certPem],
    ...validity,
  });
}
