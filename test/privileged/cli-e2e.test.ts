/**
 * The `ambit` CLI end to end on the local runtime (issue 7, acceptance 4), run as a user runs it:
 * the built CLI (`node dist/cli/ambit.js`, after `npm run build:ts`) as a separate process for
 * every command, on a temporary directory with a namespace `shop` that is not in the mesh yet, a
 * web pod on node2 behind Service `web`, and a client pod on node1:
 *
 *   local up -> label ns shop -> waypoint apply --enroll-namespace -> status (+ --json)
 *   -> config-dump agent|waypoint -> label ns shop --off -> waypoint delete -> local down
 *
 * Each step is checked where it takes effect: the YAML the CLI edited, the runtime's status, the
 * agents' and the waypoint's access logs for real requests from the client pod, the agents'
 * config. afterAll tears the runtime down as `ambit local down` does, also after a failure.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { MeshStatus } from '../../cli/cluster/mesh-status';
import type { RuntimeRecord, StatusDoc } from '../../cli/local/runtime-record';
import { readJson, statePaths } from '../../cli/local/state-dir';
import { teardownRuntime } from '../../cli/local/teardown';
import { projectRoot } from '../../common/project-root';
import { CleanupStack, execIn, listLeftovers } from '../../common/sandbox';
import { ANY_PORTS, requirePrivileged, type CliResult } from '../harness';
import { until } from './mesh-env';
import { WEB_APP } from './waypoint-env';

jest.setTimeout(180_000);

const ROOT = projectRoot();
const CLI = path.join(ROOT, 'dist', 'cli', 'ambit.js');

const SHOP_YAML = `# The shop: not in the mesh until \`ambit label ns shop\`.
apiVersion: v1
kind: Namespace
metadata:
  name: shop   # dashboards key on this name
  labels: { team: retail }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop, labels: { app: web } }
spec:
  nodeName: node2
  containers:
    - name: app
      command: [node, app/web.js]
      readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: shop, labels: { app: client } }
spec:
  nodeName: node1
  containers:
    - name: app
      command: [node, -e, "setInterval(() => {}, 1e6)"]
`;

/** `node dist/cli/ambit.js <args>`; SIGKILLed after `timeoutMs` (code -1 then). */
function ambit(args: readonly string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const GET_JS = `require('http').get(process.argv[1], { agent: false, timeout: 10000 }, (r) => {
  let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => console.log(JSON.stringify({ status: r.statusCode, body: b })));
}).on('error', (e) => console.log(JSON.stringify({ error: e.code || e.message })));`;

function jsonLines(file: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('ambit CLI on the local runtime: label, waypoint, status, config-dump', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-cli-e2e-'));
  const dir = path.join(tmp, 'config');
  const paths = statePaths(path.join(tmp, 'state'));
  const S = ['--state-dir', paths.dir];
  const cleanup = new CleanupStack();
  let prefix = '';

  const status = (): StatusDoc | undefined => readJson<StatusDoc>(paths.status, 1);
  const pod = (name: string): StatusDoc['pods'][number] => {
    const p = status()?.pods.find((x) => x.namespace === 'shop' && x.name === name);
    if (p === undefined) throw new Error(`no pod shop/${name} in status.json`);
    return p;
  };
  const vip = (): string => status()!.services.find((s) => s.name === 'web')!.clusterIP;
  /** A GET from inside the client pod (its netns and cgroup: captured when it is enrolled). */
  const getFromClient = async (url: string): Promise<{ status?: number; body?: string; error?: string }> => {
    const c = pod('client');
    const r = await execIn({ netnsPath: `/run/netns/${c.netns}`, cgroupPath: c.cgroupPath! }, cleanup, process.execPath, ['-e', GET_JS, url], { timeoutMs: 20_000 });
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { status?: number; body?: string; error?: string };
  };
  const agentLog = (node: string): Array<Record<string, unknown>> =>
    jsonLines(path.join(paths.agents, node, 'agent.log')).filter((l) => l.msg === 'connection complete');

  beforeAll(() => {
    requirePrivileged();
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build:ts\` first`);
    fs.mkdirSync(path.join(dir, 'app'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'app', 'web.js'), WEB_APP);
    fs.writeFileSync(path.join(dir, 'shop.yaml'), SHOP_YAML);
  });

  afterAll(async () => {
    try {
      await cleanup.runAll();
    } finally {
      await teardownRuntime(paths, { print: () => {} });
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('`local up` runs the directory: both pods ready, outside the mesh', async () => {
    const r = await ambit(['local', 'up', '-f', dir, ...S, '--wait', '60', ...ANY_PORTS]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    prefix = readJson<RuntimeRecord>(paths.runtime, 1)!.prefix;
    await until('both pods ready', () => status()?.pods.length === 2 && status()!.pods.every((p) => p.ready), 60_000);
    expect(pod('client').enrolled).toBe('not ambient');
    expect(pod('web').enrolled).toBe('not ambient');
  });

  it('`label ns shop` enrolls the running pods in place, and their traffic goes through the agents', async () => {
    const before = { uid: pod('client').uid, pid: pod('web').containers[0].pid };
    const r = await ambit(['label', 'ns', 'shop', ...S]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/namespace shop: istio\.io\/dataplane-mode=ambient \(edited shop\.yaml\)/);
    expect(r.stdout).toMatch(/shop\/client enrolled/);
    expect(r.stdout).toMatch(/shop\/web enrolled/);
    expect(r.stdout).toMatch(/live after [\d.]+ s/);
    // Edited in place: the comments and the other documents are as the user wrote them.
    const text = fs.readFileSync(path.join(dir, 'shop.yaml'), 'utf8');
    expect(text).toContain('# dashboards key on this name');
    expect(text).toContain('labels: { team: retail, istio.io/dataplane-mode: ambient }');
    expect(text.slice(text.indexOf('---'))).toBe(SHOP_YAML.slice(SHOP_YAML.indexOf('---')));
    // Nothing restarted: same pod, same process.
    expect(pod('client')).toMatchObject({ enrolled: 'enrolled', uid: before.uid });
    expect(pod('web')).toMatchObject({ enrolled: 'enrolled', restarts: 0 });
    expect(pod('web').containers[0].pid).toBe(before.pid);

    const res = await until('a request to the web Service from the client pod', async () => {
      const x = await getFromClient(`http://${vip()}/through-agents`);
      return x.status === 200 ? x : undefined;
    });
    expect(JSON.parse(res.body!)).toMatchObject({ pod: 'web', path: '/through-agents' });
    // The source's agent (node1) carried it out, the destination's (node2) took it in over mTLS.
    await until('the agents to log the connection', () =>
      agentLog('node1').some((l) => l.direction === 'outbound' && l['src.workload'] === 'client' && l['dst.service'] === 'web.shop.svc.cluster.local') &&
      agentLog('node2').some((l) => l.direction === 'inbound' && String(l['src.identity']).endsWith('/ns/shop/sa/default') && l['dst.workload'] === 'web'),
    );
  });

  it('`waypoint apply -n shop --enroll-namespace` starts the waypoint, then sends the Service traffic through it', async () => {
    const r = await ambit(['waypoint', 'apply', '-n', 'shop', '--enroll-namespace', ...S]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote ambit-waypoint-shop-waypoint\.yaml/);
    expect(r.stdout).toMatch(/shop\/waypoint-0 ready/);
    expect(r.stdout).toMatch(/namespace shop: istio\.io\/use-waypoint=waypoint \(edited shop\.yaml\)/);
    expect(r.stdout).toMatch(/agent on node1 sends 1 of shop's services\/workloads through shop\/waypoint/);
    expect(r.stdout).toMatch(/agent on node2 sends 1 of shop's services\/workloads through shop\/waypoint/);
    const objects = YAML.parseAllDocuments(fs.readFileSync(path.join(dir, 'ambit-waypoint-shop-waypoint.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string });
    expect(objects.map((o) => o.kind)).toEqual(['Gateway', 'Service', 'Pod']);
    // The second edit of the same file was seen too (a rename-over would have lost the watch).
    expect(fs.readFileSync(path.join(dir, 'shop.yaml'), 'utf8')).toContain('istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint }');

    const mark = `/via-waypoint-${process.pid}`;
    const res = await getFromClient(`http://${vip()}${mark}`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body!)).toMatchObject({ pod: 'web', path: mark });
    const line = await until('the waypoint to log the request', () =>
      jsonLines(path.join(paths.logs, 'shop_waypoint-0_waypoint.log')).find((l) => l.path === mark),
    );
    expect(line).toMatchObject({ response_code: 200, upstream_service: 'web.shop.svc.cluster.local', 'src.workload': 'client' });
  });

  it('`status` shows the control plane, both agents with their resources, the waypoint and the enrolled pods', async () => {
    const r = await ambit(['status', ...S]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^control plane: ready, gRPC 127\.0\.0\.1:\d+, status http:\/\/127\.0\.0\.1:\d+, config version \w+-\d+, clients: 2 agents, 1 waypoint$/m);
    for (const node of ['node1', 'node2']) {
      expect(r.stdout).toMatch(new RegExp(`^${node}\\s+pid \\d+\\s+yes\\s+\\d+[smh]\\s+1\\s+[\\d.]+s\\s+[\\d.]+ [KMG]iB\\s+\\d+%\\s+[\\d.]+ [MG]iB/[\\d.]+ GiB\\s+http://127\\.`, 'm'));
    }
    expect(r.stdout).toMatch(/^shop\/waypoint\s+service\s+1\/1\s+198\.19\.\d+\.\d+:15008\s+ns:shop$/m);
    expect(r.stdout).toMatch(/^shop\/client\s+node1\s+198\.18\.1\.\d+\s+yes\s+enrolled\s+shop\/waypoint \(service\)$/m);
    expect(r.stdout).toMatch(/^shop\/web\s+node2\s+198\.18\.2\.\d+\s+yes\s+enrolled\s+shop\/waypoint \(service\)$/m);

    const j = await ambit(['status', '--json', ...S]);
    expect(j.code).toBe(0);
    const s = JSON.parse(j.stdout) as MeshStatus;
    expect(s.controlPlane).toMatchObject({ state: 'running', ready: true });
    expect(s.controlPlane.clients!.map((c) => c.node ?? c.waypoint).sort()).toEqual(['node1', 'node2', 'shop/waypoint']);
    expect(s.agents.map((a) => a.node)).toEqual(['node1', 'node2']);
    for (const a of s.agents) {
      expect(a).toMatchObject({ running: true, ready: true, enrolledPods: 1 });
      expect(a.rssBytes).toBeGreaterThan(1024 * 1024);
      expect(a.cpuSeconds).toBeGreaterThan(0);
      expect(a.uptimeSeconds).toBeGreaterThanOrEqual(0);
      expect(a.nodeMemoryTotalBytes).toBe(os.totalmem());
      expect(a.nodeMemoryUsedBytes).toBeGreaterThan(0);
      expect(a.nodeCpuUtilization).toBeGreaterThanOrEqual(0);
    }
    expect(s.waypoints).toEqual([expect.objectContaining({ namespace: 'shop', name: 'waypoint', for: 'service', ready: 1, pods: 1, usedBy: ['ns:shop'] })]);
    expect(s.pods.filter((p) => p.enrolled === 'enrolled').map((p) => `${p.name}:${p.waypoint}`).sort()).toEqual(['client:shop/waypoint', 'web:shop/waypoint']);
  });

  it('`config-dump agent node1` is the agent\'s config with its pod; `config-dump waypoint` the waypoint\'s', async () => {
    const r = await ambit(['config-dump', 'agent', 'node1', ...S]);
    expect(r.code).toBe(0);
    const dump = JSON.parse(r.stdout) as { node: string; pods: Array<{ name: string }>; config: { services: Array<{ name: string; waypoint?: { name: string } | null }> } };
    expect(dump.node).toBe('node1');
    expect(dump.pods.map((p) => p.name)).toEqual(['shop/client']);
    expect(dump.config.services.find((x) => x.name === 'web')?.waypoint?.name).toBe('waypoint');

    const w = await ambit(['config-dump', 'waypoint', 'shop/waypoint', ...S]);
    expect(w.code).toBe(0);
    expect(JSON.parse(w.stdout)).toMatchObject({ waypoint: 'shop/waypoint' });
  });

  it('`label ns shop --off` takes the pods out of the mesh in place', async () => {
    const r = await ambit(['label', 'ns', 'shop', '--off', ...S]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/shop\/client not enrolled/);
    expect(pod('client').enrolled).toBe('not ambient');
    expect(pod('web').enrolled).toBe('not ambient');
    expect(fs.readFileSync(path.join(dir, 'shop.yaml'), 'utf8')).not.toContain('dataplane-mode');
    // The agents let go of them.
    const dump = JSON.parse((await ambit(['config-dump', 'agent', 'node1', ...S])).stdout) as { pods: unknown[] };
    expect(dump.pods).toEqual([]);
  });

  it('`waypoint delete` unbinds the namespace first, then removes the waypoint', async () => {
    const r = await ambit(['waypoint', 'delete', '-n', 'shop', ...S]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.indexOf('istio.io/use-waypoint removed')).toBeLessThan(r.stdout.indexOf('removed ambit-waypoint-shop-waypoint.yaml'));
    expect(r.stdout).toMatch(/shop\/waypoint-0 removed/);
    expect(fs.existsSync(path.join(dir, 'ambit-waypoint-shop-waypoint.yaml'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'shop.yaml'), 'utf8')).toContain('labels: { team: retail }');
    expect(status()!.pods.map((p) => p.name).sort()).toEqual(['client', 'web']);
    const list = await ambit(['waypoint', 'list', ...S]);
    expect(list.stdout).toMatch(/^no waypoints on local runtime/);
  });

  it('errors say what is wrong and what to do', async () => {
    const gone = await ambit(['waypoint', 'delete', '-n', 'shop', ...S]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/there is no waypoint shop\/waypoint .*\(AMBIT_ERR_CLI_WAYPOINT_NOT_FOUND\)/);
    const nope = await ambit(['label', 'ns', 'nope', ...S]);
    expect(nope.code).toBe(1);
    expect(nope.stderr).toMatch(/namespace nope does not exist .*\(namespaces: shop\).*\(AMBIT_ERR_CLI_UNKNOWN_NAMESPACE\)/);
    const node = await ambit(['config-dump', 'agent', 'node9', ...S]);
    expect(node.stderr).toMatch(/there is no node node9 \(nodes: node1, node2\) \(AMBIT_ERR_CLI_UNKNOWN_NODE\)/);
    const bad = await ambit(['waypoint', 'apply', '-n', 'shop', '--name', 'My_Waypoint', ...S]);
    expect(bad.stderr).toMatch(/waypoint name "My_Waypoint" is not a valid name: .*\(AMBIT_ERR_CLI_BAD_NAME\)/);
    // Without root (the state directory is 0700): test/unit/cli-select-target.test.ts. Running the
    // CLI here as another user would need that user to read this checkout, which CI's may not allow.
  });

  it('`local down` removes everything; then the commands say how to start a runtime', async () => {
    const r = await ambit(['local', 'down', ...S]);
    expect(r.code).toBe(0);
    expect(listLeftovers(prefix)).toEqual({ netns: [], cgroups: [], pins: [] });
    const s = await ambit(['status', ...S]);
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/no local runtime is running for .*: start one with `sudo ambit local up -f <dir>`, or pass --kubeconfig \(AMBIT_ERR_CLI_NO_TARGET\)/);
  });
});
