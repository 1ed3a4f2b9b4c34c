// The assembled control plane, end to end over real sockets on 127.0.0.1: a watched YAML directory
// -> model -> ConfigService push to a real ConfigClient, the CA behind the real model, and the
// status server. Issue 3 acceptance items 1-3 as a user would meet them.
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ConfigClient, ConfigUpdate } from '../../common/config-client';
import { createKeyAndCsr } from '../../common/identity/csr';
import { verifySvidChain } from '../../common/identity/verify';
import { createLogger } from '../../common/log';
import { createCertificateServiceClient } from '../../common/proto/load';
import type { CreateCertificateResponse__Output } from '../../common/proto/generated/ambit/v1/CreateCertificateResponse';
import { BootstrapTokenAuthenticator } from '../../control-plane/auth/bootstrap-token-authenticator';
import { ControlPlane, startControlPlane } from '../../control-plane/control-plane';
import { YamlDirectorySource } from '../../control-plane/sources/yaml-directory-source';

const NS = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio.io/dataplane-mode: ambient
`;

const pod = (name: string, node: string, ip: string, labels: Record<string, string> = { app: 'web' }, sa = 'web'): string => `---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: shop
  labels: ${JSON.stringify(labels)}
spec:
  nodeName: ${node}
  serviceAccountName: ${sa}
  containers:
  - name: app
    command: ["node", "web.js"]
status:
  phase: Running
  podIP: ${ip}
  conditions:
  - type: Ready
    status: "True"
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  clusterIP: 10.96.0.10
  ports:
  - name: http
    port: 80
    targetPort: 8080
`;

interface Harness {
  dir: string;
  stateDir: string;
  cp: ControlPlane;
  tokens: BootstrapTokenAuthenticator;
  logLines: string[];
}

const tmp = (prefix: string): string => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const clients: ConfigClient[] = [];
let h: Harness;

async function start(dir: string, stateDir: string): Promise<Harness> {
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(...String(chunk).split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  const logger = createLogger('control-plane', { level: 'info', destination });
  const tokens = new BootstrapTokenAuthenticator(stateDir);
  const cp = await startControlPlane({
    sources: [new YamlDirectorySource({ dir, logger })],
    stateDir,
    nodeAuthenticator: tokens,
    grpcListen: '127.0.0.1:0',
    httpListen: '127.0.0.1:0',
    logger,
  });
  return { dir, stateDir, cp, tokens, logLines };
}

function client(node: string, accept: (u: ConfigUpdate) => void = () => undefined): ConfigClient {
  const c = new ConfigClient({ address: h.cp.grpcAddress, subscription: { node }, accept, backoff: { initialMs: 50, maxMs: 200 } });
  clients.push(c);
  void c.start();
  return c;
}

/** The next update accepted by `c` that satisfies `pred`, or a rejection after `ms`. */
function nextUpdate(c: ConfigClient, pred: (u: ConfigUpdate) => boolean, ms = 3000): Promise<ConfigUpdate> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching update within ${ms} ms`)), ms);
    const on = (u: ConfigUpdate): void => {
      if (!pred(u)) return;
      clearTimeout(timer);
      c.off('update', on);
      resolve(u);
    };
    c.on('update', on);
  });
}

const names = (u: ConfigUpdate, type: string): string[] => [...u.resources.keys()].filter((k) => k.startsWith(`${type}:`)).sort();

beforeEach(async () => {
  const dir = tmp('ambit-cp-config-');
  fs.writeFileSync(path.join(dir, 'namespace.yaml'), NS);
  fs.writeFileSync(path.join(dir, 'pods.yaml'), pod('web-1', 'node1', '10.1.0.11') + pod('web-2', 'node2', '10.1.0.12'));
  fs.writeFileSync(path.join(dir, 'service.yaml'), SERVICE);
  h = await start(dir, tmp('ambit-cp-state-'));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await h.cp.close();
  fs.rmSync(h.dir, { recursive: true, force: true });
  fs.rmSync(h.stateDir, { recursive: true, force: true });
});

it('serves a snapshot on subscribe, then a YAML edit as a delta within 1 s', async () => {
  const c = client('node1');
  const first = await nextUpdate(c, (u) => u.snapshot);
  expect(names(first, 'WORKLOAD')).toEqual(['WORKLOAD:Kubernetes//Pod/shop/web-1', 'WORKLOAD:Kubernetes//Pod/shop/web-2']);
  expect(first.resources.get('SERVICE:shop/web')?.service?.endpoints).toHaveLength(2);

  const edited = Date.now();
  const arrived = nextUpdate(c, (u) => !u.snapshot && u.added.some((r) => r.workload?.name === 'web-3'));
  fs.writeFileSync(path.join(h.dir, 'pods.yaml'), pod('web-1', 'node1', '10.1.0.11') + pod('web-2', 'node2', '10.1.0.12') + pod('web-3', 'node1', '10.1.0.13'));
  const delta = await arrived;
  const latencyMs = Date.now() - edited;
  expect(latencyMs).toBeLessThan(1000);
  // The service's endpoints changed too, and arrived in the same delta as an update.
  expect(delta.updated.map((r) => r.service?.name)).toContain('web');
  expect(delta.resources.get('SERVICE:shop/web')?.service?.endpoints).toHaveLength(3);
});

it('records a NACK in metrics and logs, and the client keeps its previous config', async () => {
  let reject = false;
  const c = client('node1', () => {
    if (reject) throw new Error('cannot apply: test says no');
  });
  const first = await nextUpdate(c, (u) => u.snapshot);
  reject = true;
  const rejected = new Promise<ConfigUpdate>((resolve) => c.once('rejected', (u) => resolve(u)));
  fs.writeFileSync(path.join(h.dir, 'pods.yaml'), pod('web-1', 'node1', '10.1.0.11'));
  const nacked = await rejected;
  expect(c.version).toBe(first.version);
  expect(names({ resources: c.resources } as ConfigUpdate, 'WORKLOAD')).toHaveLength(2);

  const deadline = Date.now() + 2000;
  let metrics = '';
  while (Date.now() < deadline) {
    metrics = await (await fetch(`${h.cp.httpAddress}/metrics`)).text();
    if (/ambit_config_nacks_total\{[^}]*kind="agent"[^}]*\} 1/.test(metrics)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(metrics).toMatch(/ambit_config_nacks_total\{[^}]*kind="agent"[^}]*\} 1/);
  const line = h.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => JSON.stringify(l).includes('test says no'));
  expect(line).toMatchObject({ level: 'warn' });
  expect(JSON.stringify(line)).toContain(nacked.version);
});

it('resyncs fully, at the current version, after a reconnect', async () => {
  const c1 = client('node1');
  await nextUpdate(c1, (u) => u.snapshot);
  await c1.close();
  fs.writeFileSync(path.join(h.dir, 'pods.yaml'), pod('web-1', 'node1', '10.1.0.11'));
  // Wait until the model has the edit: the service has one endpoint.
  const until = Date.now() + 2000;
  while (h.cp.model.resources.get('SERVICE:shop/web')?.resource.service?.endpoints?.length !== 1 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 150)); // past the push debounce, so the version has moved
  const c2 = client('node1');
  const snap = await nextUpdate(c2, (u) => u.snapshot);
  expect(snap.version).toBe(h.cp.config.currentVersion());
  expect(names(snap, 'WORKLOAD')).toEqual(['WORKLOAD:Kubernetes//Pod/shop/web-1']);
});

it('keeps serving the last good config when a file goes bad, and names the file and field', async () => {
  const c = client('node1');
  await nextUpdate(c, (u) => u.snapshot);
  fs.writeFileSync(path.join(h.dir, 'service.yaml'), SERVICE.replace('port: 80', 'port: 80\n    portt: 81'));
  const until = Date.now() + 2000;
  let problems: Array<Record<string, unknown>> = [];
  while (Date.now() < until) {
    problems = (await (await fetch(`${h.cp.httpAddress}/debug/problems`)).json()) as Array<Record<string, unknown>>;
    if (problems.length > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(problems).toEqual([
    expect.objectContaining({ severity: 'error', file: path.join(h.dir, 'service.yaml'), document: 1, field: '/spec/ports/0/portt', kind: 'Service', name: 'web' }),
  ]);
  expect(String(problems[0].message)).toContain('unknown field "portt"');
  expect(h.cp.model.resources.get('SERVICE:shop/web')?.resource.service?.vips).toEqual(['10.96.0.10']);
  expect(c.resources.has('SERVICE:shop/web')).toBe(true);
});

it('is ready once synced, and issues certificates only for identities on the caller\'s node', async () => {
  const ready = await fetch(`${h.cp.httpAddress}/healthz/ready`);
  expect(ready.status).toBe(200);

  const { token } = h.tokens.issueNodeToken('node1');
  const certs = createCertificateServiceClient(h.cp.grpcAddress, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  const call = (identity: string, csr: string): Promise<CreateCertificateResponse__Output> =>
    new Promise((resolve, reject) => certs.CreateCertificate({ csr, identity, validitySeconds: 0 }, md, (err, res) => (err ? reject(err) : resolve(res!))));
  try {
    const id = 'spiffe://cluster.local/ns/shop/sa/web';
    const { csrPem } = await createKeyAndCsr(id);
    const res = await call(id, csrPem);
    const verified = await verifySvidChain(res.certChain, res.trustBundle);
    expect(verified.identity.uri).toBe(id);

    // The pod running as shop/db is scheduled on node2: node1 may not have that identity.
    fs.writeFileSync(path.join(h.dir, 'db.yaml'), pod('db-1', 'node2', '10.1.0.20', { app: 'db' }, 'db'));
    const until = Date.now() + 2000;
    while (!h.cp.model.hasIdentityOnNode('node2', 'shop', 'db') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const other = 'spiffe://cluster.local/ns/shop/sa/db';
    await expect(call(other, (await createKeyAndCsr(other)).csrPem)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  } finally {
    certs.close();
  }
});

it('sends what a NACKed version carried again with the next push, so the client does not silently lack it', async () => {
  let rejectNext = false;
  const c = client('node1', (u) => {
    if (rejectNext && !u.snapshot) {
      rejectNext = false;
      throw new Error('rejecting this one delta');
    }
  });
  await nextUpdate(c, (u) => u.snapshot);
  rejectNext = true;
  const rejected = new Promise<ConfigUpdate>((resolve) => c.once('rejected', (u) => resolve(u)));
  const three = pod('web-1', 'node1', '10.1.0.11') + pod('web-2', 'node2', '10.1.0.12') + pod('web-3', 'node1', '10.1.0.13');
  fs.writeFileSync(path.join(h.dir, 'pods.yaml'), three);
  expect((await rejected).added.map((r) => r.workload?.name)).toContain('web-3');
  expect(c.resources.has('WORKLOAD:Kubernetes//Pod/shop/web-3')).toBe(false);

  // An unrelated change: the next delta carries it and, again, web-3 (and the service update).
  const next = nextUpdate(c, (u) => !u.snapshot && u.resources.has('WORKLOAD:Kubernetes//Pod/shop/web-4'));
  fs.writeFileSync(path.join(h.dir, 'pods.yaml'), three + pod('web-4', 'node2', '10.1.0.14'));
  const u = await next;
  expect(names(u, 'WORKLOAD')).toEqual(['web-1', 'web-2', 'web-3', 'web-4'].map((n) => `WORKLOAD:Kubernetes//Pod/shop/${n}`));
  expect(u.resources.get('SERVICE:shop/web')?.service?.endpoints).toHaveLength(4);
});
