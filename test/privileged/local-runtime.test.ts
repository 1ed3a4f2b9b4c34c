/**
 * `ambit local up|down|status` end to end, as a user runs it: the CLI is started as a separate
 * process from the TypeScript sources (`node -r test/fixtures/ts-register.js cli/ambit.ts`, so the
 * test never runs a stale dist/), against a copy of examples/bookinfo-lite in a temporary
 * directory, with its own state directory and control-plane ports chosen by the kernel. A pod
 * whose readiness endpoint answers 404 is added to the copy. afterAll removes everything through
 * the same teardown code `down` uses, also when a test failed half-way.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ConfigClient } from '../../common/config-client';
import { projectRoot } from '../../common/project-root';
import { CleanupStack, execIn, isRunning, listLeftovers, type ProcessIdentity } from '../../common/sandbox';
import type { RuntimeRecord, StatusDoc } from '../../cli/local/runtime-record';
import { readJson, statePaths } from '../../cli/local/state-dir';
import { teardownRuntime } from '../../cli/local/teardown';
import { ambit, AMBIT_CLI, ANY_PORTS, killChild, requirePrivileged, TS_REGISTER, waitForLine } from '../harness';

jest.setTimeout(120_000);

const ROOT = projectRoot();
const EXAMPLE = path.join(ROOT, 'examples', 'bookinfo-lite');



const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const BROKEN_POD = `# Answers /healthz but its probe asks for /not-healthz (404): it runs, but never becomes ready.
apiVersion: v1
kind: Pod
metadata:
  name: never-ready
  namespace: demo
  labels: { app: details, version: broken }
spec:
  nodeName: node2
  containers:
    - name: details
      command: [node, app/details.js]
      readinessProbe:
        httpGet: { path: /not-healthz, port: 9080 }
        periodSeconds: 1
`;

const EXTRA_POD = `apiVersion: v1
kind: Pod
metadata:
  name: extra
  namespace: demo
  labels: { app: ratings, version: extra }
spec:
  containers:
    - name: ratings
      command: [node, app/ratings.js]
      readinessProbe:
        tcpSocket: { port: 9080 }
        periodSeconds: 1
`;

/** A GET from inside a pod (its netns and cgroup), with the pod's own Node. */
async function getFromPod(from: StatusDoc['pods'][number], url: string, cleanup: CleanupStack): Promise<Record<string, unknown>> {
  const script = `require('http').get(${JSON.stringify(url)}, (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => console.log(b)); })
    .on('error', (e) => { console.log(JSON.stringify({ error: e.code })); process.exitCode = 1; });`;
  const r = await execIn({ netnsPath: `/run/netns/${from.netns}`, cgroupPath: from.cgroupPath! }, cleanup, process.execPath, ['-e', script], { timeoutMs: 10_000 });
  return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
}

function httpGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => http.get(url, (r) => (r.resume(), resolve(r.statusCode ?? 0))).on('error', reject));
}

describe('ambit local up / status / down', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-local-test-'));
  const config = path.join(tmp, 'config');
  const paths = statePaths(path.join(tmp, 'state'));
  const cleanup = new CleanupStack();
  const status = (): StatusDoc | undefined => readJson<StatusDoc>(paths.status, 1);
  const pod = (name: string): StatusDoc['pods'][number] | undefined => status()?.pods.find((p) => p.name === name);
  let prefix = '';
  let recorded: ProcessIdentity[] = [];

  beforeAll(() => {
    requirePrivileged();
    fs.cpSync(EXAMPLE, config, { recursive: true });
    fs.writeFileSync(path.join(config, 'never-ready.yaml'), BROKEN_POD);
  });

  afterAll(async () => {
    await cleanup.runAll();
    await teardownRuntime(paths, { print: () => {} });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('`up` creates two nodes and a pod sandbox per Pod, returns once they run, and prints a summary', async () => {
    const t0 = Date.now();
    const r = await ambit(['local', 'up', '-f', config, '--state-dir', paths.dir, '--wait', '5', ...ANY_PORTS]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/7 pods, 4 services; nodes: node1, node2/);
    expect(r.stdout).toMatch(/control plane up: gRPC 127\.0\.0\.1:\d+/);
    expect(r.stdout).toMatch(/up in [\d.]+ s: 6\/7 pods ready/);
    // never-ready never settles: `up` waited its --wait of 5 s for it.
    process.stderr.write(`ambit local up took ${Date.now() - t0} ms (CLI transpiled from source, 7 pods, --wait 5)\n`);

    const rec = readJson<RuntimeRecord>(paths.runtime, 1)!;
    prefix = rec.prefix;
    expect(prefix).toMatch(/^ambit-l[0-9a-z]+-$/);
    expect(isRunning(rec.runtime)).toBe(true);
    const doc = status()!;
    expect(doc.nodes.map((n) => [n.name, n.subnets[0], n.pods])).toEqual([
      ['node1', '198.18.1.0/24', 3],
      ['node2', '198.18.2.0/24', 4],
    ]);
    const where = Object.fromEntries(doc.pods.map((p) => [p.name, p.node]));
    expect(where).toEqual({
      'details-v1': 'node1',
      'productpage-v1': 'node1',
      'reviews-v1': 'node1',
      'reviews-v2': 'node2',
      'reviews-v3': 'node2',
      'ratings-v1': 'node2',
      'never-ready': 'node2',
    });
    // Every netns exists, named with the runtime's prefix: 2 nodes + the fabric + 7 pods.
    const left = listLeftovers(prefix);
    expect(left.netns).toHaveLength(10);
    expect(left.cgroups).toEqual([rec.cgroupRoot]);
    for (const p of doc.pods) {
      expect(p.podIPs[0]).toMatch(/^198\.18\.[12]\.\d+$/);
      expect(p.podIPs[1]).toMatch(/^fd00:a3b1:[12]::\d+$/);
      expect(left.netns).toContain(p.netns);
      // bookinfo-lite's namespace is ambient: each pod was enrolled with its node's agent before it started.
      expect(p.enrolled).toBe('enrolled');
    }
    expect(doc.controlPlane.state).toBe('running');
    for (const n of doc.nodes) expect(n.agent).toMatchObject({ running: true, restarts: 0 });
  });

  it('marks pods ready by their probes: a failing readiness endpoint keeps a pod out of the endpoints', async () => {
    await until('the six bookinfo pods to be ready', () => status()?.pods.filter((p) => p.ready).length === 6);
    await sleep(2_500); // several probe periods
    const broken = pod('never-ready')!;
    expect(broken.phase).toBe('Running');
    expect(broken.ready).toBe(false);
    expect(broken.containers[0].probe).toBe('HTTP 404');
    const details = status()!.services.find((s) => s.name === 'details')!;
    expect(details.clusterIP).toMatch(/^198\.19\.\d+\.\d+$/);
    expect(details.endpoints.map((e) => [e.pod, e.ready])).toEqual([
      ['details-v1', true],
      ['never-ready', false],
    ]);
    const cp = status()!.controlPlane as { httpAddress: string };
    expect(await httpGet(`${cp.httpAddress}/healthz/ready`)).toBe(200);
  });

  it('feeds the control plane pods as the API server would: node, pod IPs, readiness-driven endpoints', async () => {
    const cp = status()!.controlPlane as { grpcAddress: string };
    const client = new ConfigClient({ address: cp.grpcAddress, subscription: { node: 'node1', clientId: 'local-runtime-test' }, accept: () => {} });
    try {
      await client.start();
      expect(await client.ready()).toBe(true);
      const resources = [...client.resources.values()];
      const workload = (name: string) => resources.find((r) => r.workload?.name === name)?.workload;
      const details = pod('details-v1')!;
      expect(workload('details-v1')).toMatchObject({ namespace: 'demo', serviceAccount: 'bookinfo-details', node: 'node1' });
      expect(workload('details-v1')!.addresses).toEqual(expect.arrayContaining([details.podIPs[0]]));
      const svc = resources.find((r) => r.service?.name === 'details' && r.service.namespace === 'demo')!.service!;
      expect(svc.vips).toEqual([status()!.services.find((s) => s.name === 'details')!.clusterIP]);
      // Only the ready pod is an endpoint; never-ready carries the same labels but fails its probe.
      const endpointUids = svc.endpoints.map((e) => e.workloadUid);
      expect(endpointUids).toEqual([expect.stringContaining('details-v1')]);
    } finally {
      await client.close();
    }
  });

  it('pods reach each other across nodes by pod IP (IPv4 and IPv6)', async () => {
    const from = pod('productpage-v1')!;
    const ratings = pod('ratings-v1')!;
    const v4 = await getFromPod(from, `http://${ratings.podIPs[0]}:9080/ratings`, cleanup);
    expect(v4).toMatchObject({ service: 'ratings', pod: 'ratings-v1', node: 'node2', podIP: ratings.podIPs[0], ratings: { Reviewer1: 5 } });
    const reviews = pod('reviews-v2')!;
    const v6 = await getFromPod(from, `http://[${reviews.podIPs[1]}]:9080/healthz`, cleanup);
    expect(v6).toMatchObject({ status: 'ok', service: 'reviews', version: 'v2', node: 'node2' });
    const back = await getFromPod(pod('reviews-v3')!, `http://${pod('details-v1')!.podIPs[0]}:9080/details`, cleanup);
    expect(back).toMatchObject({ service: 'details', node: 'node1' });
  });

  it('starts containers with Kubernetes-style Service and pod variables', () => {
    const p = pod('productpage-v1')!;
    const environ = fs.readFileSync(`/proc/${p.containers[0].pid}/environ`, 'utf8').split('\0');
    const details = status()!.services.find((s) => s.name === 'details')!;
    expect(environ).toEqual(
      expect.arrayContaining([
        `DETAILS_SERVICE_HOST=${details.clusterIP}`,
        'DETAILS_SERVICE_PORT=9080',
        'DETAILS_SERVICE_PORT_HTTP=9080',
        'POD_NAME=productpage-v1',
        'POD_NAMESPACE=demo',
        `POD_IP=${p.podIPs[0]}`,
        'NODE_NAME=node1',
        'APP_VERSION=v1',
      ]),
    );
  });

  it('restarts a killed container (restartPolicy Always) and counts the restart', async () => {
    const before = pod('details-v1')!;
    const pid = before.containers[0].pid!;
    expect(before.restarts).toBe(0);
    process.kill(pid, 'SIGKILL'); // a container process of the runtime this test started
    const after = await until('details-v1 to be restarted and ready', () => {
      const p = pod('details-v1');
      return p !== undefined && p.restarts === 1 && p.ready ? p : undefined;
    });
    expect(after.containers[0].pid).not.toBe(pid);
    expect(after.containers[0].lastState).toMatchObject({ kind: 'terminated', signal: 'SIGKILL' });

    const r = await ambit(['local', 'status', '--state-dir', paths.dir, '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { running: boolean; status: StatusDoc };
    expect(json.running).toBe(true);
    expect(json.status.pods.find((p) => p.name === 'details-v1')).toMatchObject({ restarts: 1, ready: true, phase: 'Running' });
    const text = await ambit(['local', 'status', '--state-dir', paths.dir]);
    expect(text.stdout).toMatch(/demo\/details-v1\s+node1\s+198\.18\.1\.\d+ fd00:a3b1:1::\d+\s+Running\s+1\/1\s+1\s+enrolled/);
    expect(text.stdout).toMatch(/not ready demo\/never-ready: details: readiness HTTP 404/);
  });

  it('creates a pod added to the directory on the least-loaded node, and removes it with its file', async () => {
    const file = path.join(config, 'extra.yaml');
    fs.writeFileSync(file, EXTRA_POD);
    const extra = await until('the new pod to be ready', () => (pod('extra')?.ready ? pod('extra') : undefined));
    expect(extra.node).toBe('node1'); // node1 had 3 pods, node2 4
    expect(listLeftovers(prefix).netns).toContain(extra.netns);
    fs.rmSync(file);
    await until('the pod to be removed', () => status() !== undefined && pod('extra') === undefined);
    await until('its netns to be gone', () => !listLeftovers(prefix).netns.includes(extra.netns!));
  });

  it('refuses a second `up` for the same state directory', async () => {
    const r = await ambit(['local', 'up', '-f', config, '--state-dir', paths.dir, ...ANY_PORTS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already running for .* \(pid \d+/);
    expect(r.stderr).toMatch(/ambit local down --state-dir/);
  });

  it('`down` stops the runtime and leaves no process, netns, cgroup or state file', async () => {
    const rec = readJson<RuntimeRecord>(paths.runtime, 1)!;
    recorded = [rec.runtime, ...rec.pods.flatMap((p) => p.processes)];
    expect(recorded.length).toBe(8);
    const r = await ambit(['local', 'down', '--state-dir', paths.dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/stopped after SIGTERM/);
    expect(r.stdout).toMatch(/the runtime removed: 7 processes, 10 netns, 1 cgroup tree/);
    expect(listLeftovers(prefix)).toEqual({ netns: [], cgroups: [], pins: [] });
    for (const p of recorded) expect(isRunning(p)).toBe(false);
    expect(fs.existsSync(paths.dir)).toBe(false);
    const again = await ambit(['local', 'down', '--state-dir', paths.dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to remove/);
    const st = await ambit(['local', 'status', '--state-dir', paths.dir]);
    expect(st.code).toBe(3);
    expect(st.stdout).toMatch(/no local runtime is running/);
  });
});

describe('ambit local down after the runtime was SIGKILLed', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-local-kill-'));
  const paths = statePaths(path.join(tmp, 'state'));
  let child: ChildProcess | undefined;

  beforeAll(() => requirePrivileged());
  afterAll(async () => {
    if (child) await killChild(child);
    await teardownRuntime(paths, { print: () => {} });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('removes the orphaned pods, netns and cgroups from runtime.json and the name prefix', async () => {
    child = spawn(process.execPath, ['-r', TS_REGISTER, AMBIT_CLI, 'local', 'up', '-f', EXAMPLE, '--state-dir', paths.dir, '--foreground', ...ANY_PORTS], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await waitForLine(child, 'running in the foreground', 90_000);
    const rec = readJson<RuntimeRecord>(paths.runtime, 1)!;
    expect(rec.runtime.pid).toBe(child.pid);
    const containers = rec.pods.flatMap((p) => p.processes);
    expect(containers).toHaveLength(6);

    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    // Nothing removed itself: the pods run on as orphans.
    for (const p of containers) expect(isRunning(p)).toBe(true);
    expect(listLeftovers(rec.prefix).netns).toHaveLength(9);

    const st = await ambit(['local', 'status', '--state-dir', paths.dir]);
    expect(st.code).toBe(3);
    expect(st.stdout).toMatch(/is not running any more, but left resources behind/);

    const r = await ambit(['local', 'down', '--state-dir', paths.dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/runtime pid \d+ is not running/);
    expect(r.stdout).toMatch(/removed: 6 processes, 9 netns, 1 cgroup tree/);
    for (const p of containers) expect(isRunning(p)).toBe(false);
    expect(listLeftovers(rec.prefix)).toEqual({ netns: [], cgroups: [], pins: [] });
    expect(fs.existsSync(paths.dir)).toBe(false);
  });
});

describe('ambit local up refusals', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-local-bad-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('prints the problems of a directory with errors and creates nothing', async () => {
    const dir = path.join(tmp, 'config');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'image-only.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: { name: web }\nspec:\n  containers:\n    - name: web\n      image: nginx\n');
    fs.writeFileSync(path.join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n');
    const state = path.join(tmp, 'state');
    const r = await ambit(['local', 'up', '-f', dir, '--state-dir', state, ...ANY_PORTS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*broken\.yaml:\d+/);
    expect(r.stderr).toMatch(/Pod default\/web \/spec\/containers\/0\/command: container "web" has no command/);
    expect(r.stderr).toMatch(/2 error\(s\) in .*; fix them and run again \(nothing was created\)/);
    expect(fs.existsSync(path.join(state, 'runtime.json'))).toBe(false);
  });
});
