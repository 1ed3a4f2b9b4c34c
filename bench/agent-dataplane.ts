/**
 * The node agent's data path against a direct path and a haproxy mTLS pair, in one topology:
 * `ambit local up` (built dist/, as a user runs it) with two simulated nodes, one agent each, and
 *
 *   bench-mesh  (ambient)   client on node1, srv-remote on node2, srv-local on node1
 *   bench-plain (no mesh)   client on node1, srv on node2
 *
 * Every server pod runs the same two apps: bench/fixtures/http-server (1 KiB answers) on :8080
 * and `iperf3 -s` on :5201. Variants, all from a client pod (its netns and cgroup):
 *   direct      bench-plain client -> srv pod IP (no proxy)
 *   cross-node  bench-mesh client -> srv-remote pod IP: captured, HBONE (HTTP/2 CONNECT, mTLS 1.3)
 *               from node1's agent to node2's agent
 *   same-node   bench-mesh client -> srv-local pod IP: captured, in-process hand-off (no TLS)
 *   haproxy     bench-plain client -> haproxy in the client pod (plaintext on 127.0.0.1) -> TLS 1.3
 *               with client certificates -> haproxy in the srv pod -> app (fixtures/haproxy-pair.ts)
 * Measured per variant: iperf3 single-stream throughput; latency at a fixed 1000 rps (open loop,
 * 1 KiB bodies, fixtures/fixed-rate-load.ts); closed-loop max rps over 32 connections; proxy CPU
 * (utime+stime of both agents / both haproxies) per 1000 rps; proxy RSS idle and with 1000 open
 * connections. Rounds interleave the variants (load from other work on the machine hits all of
 * them alike); the table shows medians, the JSON every round with the 1-minute load.
 *
 * When Ambit misses a target, a second cluster runs with the agents under `node --cpu-prof` and
 * the top frames of both agents are printed (AMBIT_BENCH_PROFILE=auto|always|never).
 *
 * Environment: AMBIT_BENCH_ROUNDS (3), AMBIT_BENCH_VARIANTS (direct,cross-node,same-node,haproxy),
 * AMBIT_BENCH_RATE (1000), AMBIT_BENCH_SECONDS (10, fixed-rate window), AMBIT_BENCH_IPERF_SECONDS
 * (5), AMBIT_BENCH_MAX_CONNECTIONS (32), AMBIT_BENCH_HOLD (1000), AMBIT_BENCH_HAPROXY_THREADS (1),
 * AMBIT_BENCH_LOG_LEVEL (warn: the agents' and runtime's log level), AMBIT_BENCH_PROFILE (auto).
 * Run: npm run bench:agent   (root)
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { StatusDoc } from '../cli/local/runtime-record';
import { readJson, statePaths, type StatePaths } from '../cli/local/state-dir';
import { teardownRuntime } from '../cli/local/teardown';
import { projectRoot } from '../common/project-root';
import { defer, execIn, killChild, processCleanup, spawnIn, type Placement } from '../common/sandbox';
import { summarizePerf, summarizeProfile, type PerfSummary, type ProfileSummary } from './fixtures/cpu-profile';
import { ensureDebianPackages } from './fixtures/debian-tools';
import type { LoadOptions, LoadResult } from './fixtures/fixed-rate-load';
import { writeHaproxyConfigs, type TunnelPort } from './fixtures/haproxy-pair';
import { cpuOf, load1, memoryOf, type Memory } from './fixtures/proc-stats';
import { lpad, median, pad, shareLines, tableRow } from './fixtures/report-table';
import { RESULTS_DIR, resultsFile, runBenchmark, selectVariants } from './fixtures/run-benchmark';

const env = process.env;
const ROUNDS = Number(env.AMBIT_BENCH_ROUNDS ?? 3);
const RATE = Number(env.AMBIT_BENCH_RATE ?? 1000);
const SECONDS = Number(env.AMBIT_BENCH_SECONDS ?? 10);
const IPERF_SECONDS = Number(env.AMBIT_BENCH_IPERF_SECONDS ?? 5);
const MAX_CONNECTIONS = Number(env.AMBIT_BENCH_MAX_CONNECTIONS ?? 32);
const HOLD = Number(env.AMBIT_BENCH_HOLD ?? 1000);
const HAPROXY_THREADS = Number(env.AMBIT_BENCH_HAPROXY_THREADS ?? 1);
const LOG_LEVEL = env.AMBIT_BENCH_LOG_LEVEL ?? 'warn';
const PROFILE = (env.AMBIT_BENCH_PROFILE ?? 'auto') as 'auto' | 'always' | 'never';
const ALL_VARIANTS = ['direct', 'cross-node', 'same-node', 'haproxy'] as const;
type Variant = (typeof ALL_VARIANTS)[number];
const VARIANTS = selectVariants(ALL_VARIANTS);

const ROOT = projectRoot();
const CLI = path.join(ROOT, 'dist', 'cli', 'ambit.js');
const LOAD = path.join(__dirname, 'fixtures', 'fixed-rate-load.js');
const HTTP_SERVER = path.join(__dirname, 'fixtures', 'http-server.js');
const APP_PORT = 8080;
const IPERF_PORT = 5201;
const TUNNELS: TunnelPort[] = [
  { name: 'http', listen: 18080, tls: 18443, app: APP_PORT },
  { name: 'iperf', listen: 15201, tls: 15443, app: IPERF_PORT },
];
const RSS_LIMIT_MB = 60;

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ the cluster

function manifests(): string {
  const server = (ns: string, name: string, node: string): string => `---
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${ns}, labels: { app: ${name} } }
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 2
  containers:
    - name: http
      command: [node, ${HTTP_SERVER}, "${APP_PORT}", "1024"]
      ports: [{ name: http, containerPort: ${APP_PORT} }]
      readinessProbe: { tcpSocket: { port: ${APP_PORT} }, periodSeconds: 1 }
    - name: iperf3
      command: [iperf3, -s, -p, "${IPERF_PORT}"]
`;
  const client = (ns: string): string => `---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: ${ns}, labels: { app: client } }
spec:
  nodeName: node1
  terminationGracePeriodSeconds: 1
  containers:
    - name: idle
      command: [sleep, infinity]
`;
  return [
    `# Generated by bench/agent-dataplane.ts
apiVersion: v1
kind: Namespace
metadata: { name: bench-mesh, labels: { istio.io/dataplane-mode: ambient } }
---
apiVersion: v1
kind: Namespace
metadata: { name: bench-plain }
`,
    client('bench-mesh'),
    server('bench-mesh', 'srv-remote', 'node2'),
    server('bench-mesh', 'srv-local', 'node1'),
    client('bench-plain'),
    server('bench-plain', 'srv', 'node2'),
  ].join('');
}

interface PodRef extends Placement {
  name: string;
  ip: string;
}

interface AgentRef {
  node: string;
  pid: number;
  admin: string;
}

interface Cluster {
  paths: StatePaths;
  pods: Record<'meshClient' | 'meshRemote' | 'meshLocal' | 'plainClient' | 'plainSrv', PodRef>;
  agents: AgentRef[];
  down(): Promise<void>;
}

function runCli(args: string[], extraEnv: Record<string, string>, timeoutMs: number, nodeFlags: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeFlags, CLI, ...args],
      { env: { ...process.env, ...extraEnv }, timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function getJson(url: string, timeoutMs = 5_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
    await sleep(300);
  }
}

/** Copies the runtime's state directory (runtime, agent and container logs) out before teardown removes it. */
function keepLogs(paths: StatePaths, label: string): string {
  const dest = path.join(RESULTS_DIR, `failed-${label.replace(/\W+/g, '-')}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  fs.mkdirSync(dest, { recursive: true });
  fs.cpSync(paths.dir, dest, { recursive: true, filter: (src) => !src.endsWith('.sock') });
  return dest;
}

/**
 * `ambit local up` on a generated directory; everything it makes is removed by `down()` or at exit.
 * `nodeFlags` go to the CLI's node, and from there (execArgv) to the background runtime and the agents.
 */
async function clusterUp(label: string, extraEnv: Record<string, string>, nodeFlags: string[] = []): Promise<Cluster> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-bench-agent-'));
  defer(`remove ${tmp}`, () => fs.rmSync(tmp, { recursive: true, force: true }), { sync: () => fs.rmSync(tmp, { recursive: true, force: true }) });
  const dir = path.join(tmp, 'config');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'bench.yaml'), manifests());
  const paths = statePaths(path.join(tmp, 'state'));
  // Registered before anything exists: the runtime writes runtime.json before its first resource.
  const teardown = defer(
    `ambit local down (${label})`,
    () => teardownRuntime(paths, { print: (l) => say(`  [down] ${l}`) }),
    {
      timeoutMs: 90_000,
      sync: () => {
        execFileSync(process.execPath, [CLI, 'local', 'down', '--state-dir', paths.dir], { stdio: 'inherit', timeout: 60_000 });
      },
    },
  );
  const t0 = Date.now();
  say(`[${label}] ambit local up (two nodes, 5 pods; AMBIT_LOG_LEVEL=${extraEnv.AMBIT_LOG_LEVEL ?? 'default'})`);
  const r = await runCli(['local', 'up', '-f', dir, '--state-dir', paths.dir, '--wait', '60', '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0'], extraEnv, 180_000, nodeFlags);
  if (r.code !== 0) throw new Error(`ambit local up failed (${r.code}):\n${r.stdout}\n${r.stderr}`);

  let lastDoc: StatusDoc | undefined;
  const doc = await until(
    'all pods ready, ambient pods enrolled, agents running',
    () => {
      const d = readJson<StatusDoc>(paths.status, 1);
      lastDoc = d;
      if (d === undefined || d.pods.length !== 5) return undefined;
      if (!d.pods.every((p) => p.ready && p.enrolled !== 'no agent yet')) return undefined;
      if (!d.nodes.every((n) => n.agent?.running && n.agent.pid !== undefined)) return undefined;
      return d;
    },
    90_000,
  ).catch((e: Error) => {
    const pods = lastDoc?.pods.map((p) => `${p.namespace}/${p.name} ${p.phase} ready=${p.ready} ${p.enrolled}${p.message ? ` (${p.message})` : ''}`);
    const agents = lastDoc?.nodes.map((n) => `${n.name}: agent ${JSON.stringify(n.agent)}`);
    const kept = keepLogs(paths, label);
    throw new Error(`${e.message}\n  pods: ${pods?.join('; ')}\n  ${agents?.join('\n  ')}\n  logs kept in ${kept}`);
  });
  const pod = (ns: string, name: string): PodRef => {
    const p = doc.pods.find((x) => x.namespace === ns && x.name === name);
    if (p === undefined || p.netns === undefined || p.cgroupPath === undefined) throw new Error(`pod ${ns}/${name} has no sandbox`);
    return { name: `${ns}/${name}`, ip: p.podIPs[0], netnsPath: `/run/netns/${p.netns}`, cgroupPath: p.cgroupPath };
  };
  const cluster: Cluster = {
    paths,
    pods: {
      meshClient: pod('bench-mesh', 'client'),
      meshRemote: pod('bench-mesh', 'srv-remote'),
      meshLocal: pod('bench-mesh', 'srv-local'),
      plainClient: pod('bench-plain', 'client'),
      plainSrv: pod('bench-plain', 'srv'),
    },
    agents: doc.nodes.map((n) => ({ node: n.name, pid: n.agent!.pid!, admin: `http://${n.agent!.adminAddress}:15000` })),
    down: () => teardown.run(),
  };
  for (const p of doc.pods) if (p.namespace === 'bench-mesh' && p.enrolled !== 'enrolled') throw new Error(`${p.namespace}/${p.name} is not enrolled: ${p.enrolled}`);
  // The agents must know the servers as mesh (HBONE) workloads, or the client's connections would
  // leave as passthrough and this would measure the wrong path.
  const node1 = cluster.agents.find((a) => a.node === 'node1')!;
  await until(
    "node1's agent to see both mesh servers as HBONE workloads",
    async () => {
      const dump = (await getJson(`${node1.admin}/config_dump`)) as { config: { workloads: Array<{ addresses: string[]; protocol: string; ready: boolean }> } };
      const known = (ip: string) => dump.config.workloads.some((w) => w.addresses.includes(ip) && w.protocol === 'HBONE' && w.ready);
      return known(cluster.pods.meshRemote.ip) && known(cluster.pods.meshLocal.ip) ? true : undefined;
    },
    60_000,
  );
  say(`[${label}] up in ${((Date.now() - t0) / 1000).toFixed(1)} s; agents: ${cluster.agents.map((a) => `${a.node} pid ${a.pid}`).join(', ')}`);
  return cluster;
}

// ------------------------------------------------------------------ load and measurements

async function load(where: Placement, o: LoadOptions, timeoutMs: number): Promise<LoadResult> {
  const r = await execIn(where, processCleanup, process.execPath, [LOAD, JSON.stringify({ bodyBytes: 1024, ...o })], { timeoutMs });
  if (r.code !== 0) throw new Error(`load generator failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as LoadResult;
}

async function iperf(where: Placement, host: string, port: number): Promise<number> {
  const r = await execIn(where, processCleanup, 'iperf3', ['-c', host, '-p', String(port), '-t', String(IPERF_SECONDS), '-J'], {
    timeoutMs: (IPERF_SECONDS + 30) * 1000,
  });
  const doc = JSON.parse(r.stdout) as { error?: string; end?: { sum_received?: { bits_per_second: number } } };
  if (doc.error || doc.end?.sum_received === undefined) throw new Error(`iperf3 to ${host}:${port} failed: ${doc.error ?? r.stderr}`);
  return doc.end.sum_received.bits_per_second / 1e9;
}

interface Target {
  client: Placement;
  host: string;
  httpPort: number;
  iperfPort: number;
  /** The proxy processes whose CPU and memory count (none for direct). */
  proxies: Array<{ name: string; pid: number }>;
  /** For the mesh variants: the transports the agents must show for the held connections. */
  expectTransport?: 'hbone' | 'local';
}

interface RoundResult {
  round: number;
  /** vcpuPerGbps: proxy cores busy per Gbit/s carried (CPU over the run / throughput), independent of how busy the machine is. */
  iperf: { gbps: number; proxyCpuSeconds: number; vcpuPerGbps: number; load1: number };
  fixed: LoadResult & { proxyCpuSeconds: number; requests: number; vcpuPer1000rps: number; load1: number };
  max: LoadResult & { proxyCpuCores: number; load1: number };
}

interface HoldResult {
  held: number;
  rssMb: Record<string, number>;
  /** RssAnon: the proxy's own memory, without the shared executable pages. */
  anonMb: Record<string, number>;
  idleRssMb: Record<string, number>;
  idleAnonMb: Record<string, number>;
  transports?: Record<string, Record<string, number>>;
  load1: number;
}

async function measureRound(t: Target, round: number): Promise<RoundResult> {
  const pids = t.proxies.map((p) => p.pid);
  const l0 = load1();
  let c0 = cpuOf(pids);
  const ti0 = performance.now();
  const gbps = await iperf(t.client, t.host, t.iperfPort);
  const iperfCpu = cpuOf(pids) - c0;
  const iperfWall = (performance.now() - ti0) / 1000;
  await sleep(500);

  const l1 = load1();
  c0 = cpuOf(pids);
  const fixed = await load(t.client, { host: t.host, port: t.httpPort, mode: 'fixed', rate: RATE, seconds: SECONDS, warmupSeconds: 1, connections: 32 }, (SECONDS + 60) * 1000);
  const fixedCpu = cpuOf(pids) - c0;
  // All requests, warm-up included, were served while the CPU was counted.
  const requests = Math.round(RATE * (SECONDS + 1));
  await sleep(500);

  const l2 = load1();
  c0 = cpuOf(pids);
  const tm0 = performance.now();
  const max = await load(t.client, { host: t.host, port: t.httpPort, mode: 'max', seconds: 5, warmupSeconds: 1, connections: MAX_CONNECTIONS }, 60_000);
  const maxCpu = cpuOf(pids) - c0;
  const maxWall = (performance.now() - tm0) / 1000;
  await sleep(500);
  const r3 = (v: number): number => Math.round(v * 1000) / 1000;
  return {
    round,
    iperf: { gbps: r3(gbps), proxyCpuSeconds: r3(iperfCpu), vcpuPerGbps: r3(iperfCpu / iperfWall / gbps), load1: l0 },
    fixed: { ...fixed, proxyCpuSeconds: r3(fixedCpu), requests, vcpuPer1000rps: r3((fixedCpu / requests) * 1000), load1: l1 },
    max: { ...max, proxyCpuCores: r3(maxCpu / maxWall), load1: l2 },
  };
}

function countTransports(conns: Array<{ direction: string; transport: string }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of conns) out[`${c.direction}/${c.transport}`] = (out[`${c.direction}/${c.transport}`] ?? 0) + 1;
  return out;
}

/** Opens HOLD connections from the client and reads the proxies' RSS while they are open. */
async function measureHold(t: Target, agents: AgentRef[], idle: Record<string, Memory>): Promise<HoldResult> {
  const child: ChildProcess = spawnIn(t.client, processCleanup, process.execPath, [LOAD, JSON.stringify({ host: t.host, port: t.httpPort, mode: 'hold', connections: HOLD, bodyBytes: 1024 })], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`holding ${HOLD} connections timed out: ${err}`)), 120_000);
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(out.slice(0, nl));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`hold generator exited (${code}): ${err}`));
      });
    });
    const held = (JSON.parse(line) as { held: number }).held;
    await sleep(2_000); // let allocations settle; RSS as the connections sit idle
    const rssMb: Record<string, number> = {};
    const anonMb: Record<string, number> = {};
    for (const p of t.proxies) {
      const m = memoryOf(p.pid) as Memory;
      rssMb[p.name] = m.rssMb;
      anonMb[p.name] = m.anonMb;
    }
    let transports: HoldResult['transports'];
    if (t.expectTransport !== undefined) {
      transports = {};
      for (const a of agents) {
        const d = (await getJson(`${a.admin}/debug/connections`, 15_000)) as { connections: Array<{ direction: string; transport: string }> };
        transports[a.node] = countTransports(d.connections);
      }
      const seen = Object.entries(transports.node1 ?? {})
        .filter(([k]) => k.endsWith(`/${t.expectTransport}`))
        .reduce((s, [, n]) => s + n, 0);
      if (seen < held) throw new Error(`expected ${held} ${t.expectTransport} connections at node1's agent, saw ${JSON.stringify(transports)}: wrong path measured`);
    }
    const pick = (k: 'rssMb' | 'anonMb') => Object.fromEntries(Object.entries(idle).map(([n, m]) => [n, m[k]]));
    return { held, rssMb, anonMb, idleRssMb: pick('rssMb'), idleAnonMb: pick('anonMb'), transports, load1: load1() };
  } finally {
    child.stdin?.end();
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(10_000)]);
    await killChild(child).catch(() => undefined);
  }
}

/** A few requests until the path answers (start-up of haproxy, first certificates, ...). */
async function smoke(t: Target): Promise<void> {
  await until(
    `a first answer from ${t.host}:${t.httpPort}`,
    async () => {
      const r = await load(t.client, { host: t.host, port: t.httpPort, mode: 'fixed', rate: 200, seconds: 0.5, warmupSeconds: 0, connections: 4 }, 20_000);
      return r.errors === 0 && (r.latency?.count ?? 0) > 0 ? true : undefined;
    },
    30_000,
  );
}

// ------------------------------------------------------------------ haproxy

async function startHaproxyPair(c: Cluster, dir: string): Promise<Array<{ name: string; pid: number }>> {
  const files = writeHaproxyConfigs(dir, c.pods.plainSrv.ip, TUNNELS, HAPROXY_THREADS);
  const procs: Array<{ name: string; pid: number; child: ChildProcess }> = [];
  for (const [name, cfg, where] of [
    ['haproxy-server', files.serverConfig, c.pods.plainSrv],
    ['haproxy-client', files.clientConfig, c.pods.plainClient],
  ] as const) {
    execFileSync('haproxy', ['-c', '-q', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = fs.openSync(path.join(dir, `${name}.log`), 'a');
    const child = spawnIn(where, processCleanup, 'haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error(`${name} did not start`);
    procs.push({ name, pid: child.pid, child });
  }
  await sleep(500);
  for (const p of procs) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      throw new Error(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode}): ${fs.readFileSync(path.join(dir, `${p.name}.log`), 'utf8').trim()}`);
    }
  }
  return procs.map(({ name, pid }) => ({ name, pid }));
}

// ------------------------------------------------------------------ reporting

const spread = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];

interface VariantSummary {
  gbps: number;
  maxRps: number;
  p50ms: number;
  p90ms: number;
  p99ms: number;
  vcpuPer1000rps: number | null;
  /** Proxy cores per Gbit/s during iperf3 (load-independent cost of bulk bytes). */
  vcpuPerGbps: number | null;
  rssIdleMb: Record<string, number>;
  rss1000Mb: Record<string, number>;
  anonIdleMb: Record<string, number>;
  anon1000Mb: Record<string, number>;
  spreads: Record<string, [number, number]>;
}

function summarizeVariant(rounds: RoundResult[], hold: HoldResult | undefined, hasProxy: boolean): VariantSummary {
  const g = rounds.map((r) => r.iperf.gbps);
  const rps = rounds.map((r) => r.max.rps);
  const p = (k: 'p50_us' | 'p90_us' | 'p99_us') => rounds.map((r) => (r.fixed.latency?.[k] ?? 0) / 1000);
  const cpu = rounds.map((r) => r.fixed.vcpuPer1000rps);
  const r2 = (v: number) => Math.round(v * 100) / 100;
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  return {
    gbps: r2(median(g)),
    maxRps: Math.round(median(rps)),
    p50ms: r3(median(p('p50_us'))),
    p90ms: r3(median(p('p90_us'))),
    p99ms: r3(median(p('p99_us'))),
    vcpuPer1000rps: hasProxy ? r3(median(cpu)) : null,
    vcpuPerGbps: hasProxy ? r3(median(rounds.map((r) => r.iperf.vcpuPerGbps))) : null,
    rssIdleMb: hold?.idleRssMb ?? {},
    rss1000Mb: hold?.rssMb ?? {},
    anonIdleMb: hold?.idleAnonMb ?? {},
    anon1000Mb: hold?.anonMb ?? {},
    spreads: { gbps: spread(g), maxRps: spread(rps), p99ms: spread(p('p99_us')).map(r3) as [number, number], vcpuPer1000rps: spread(cpu) },
  };
}

const sumMb = (m: Record<string, number>): string => {
  const vs = Object.entries(m);
  return vs.length === 0 ? '—' : vs.map(([, v]) => v.toFixed(0)).join('+');
};

function printTable(s: Partial<Record<Variant, VariantSummary>>): string[] {
  const lines: string[] = [];
  const head = ['variant', 'Gbit/s', 'vCPU/Gbit', 'max rps', 'p50 ms', 'p90 ms', 'p99 ms', '+p99 ms', 'vCPU/1k rps', 'RSS idle MB', `RSS ${HOLD} conns`, `anon ${HOLD} conns`];
  const w = [11, 7, 10, 8, 7, 7, 7, 8, 12, 12, 16, 16];
  lines.push(tableRow(head, w));
  const direct = s.direct;
  for (const v of ALL_VARIANTS) {
    const x = s[v];
    if (!x) continue;
    const added = direct ? (x.p99ms - direct.p99ms).toFixed(3) : '—';
    const cells = [
      v,
      x.gbps.toFixed(2),
      x.vcpuPerGbps === null ? '—' : x.vcpuPerGbps.toFixed(3),
      String(x.maxRps),
      x.p50ms.toFixed(3),
      x.p90ms.toFixed(3),
      x.p99ms.toFixed(3),
      v === 'direct' ? '—' : added,
      x.vcpuPer1000rps === null ? '—' : x.vcpuPer1000rps.toFixed(3),
      sumMb(x.rssIdleMb),
      sumMb(x.rss1000Mb),
      sumMb(x.anon1000Mb),
    ];
    lines.push(tableRow(cells, w));
  }
  return lines;
}

function ratioLines(s: Partial<Record<Variant, VariantSummary>>): string[] {
  const lines: string[] = [];
  const ratio = (a: number, b: number | undefined): string => (b === undefined || b === 0 ? '—' : `×${(a / b).toFixed(2)}`);
  lines.push(`${pad('ratio', 24)} ${lpad('Gbit/s', 8)} ${lpad('max rps', 8)} ${lpad('p50', 7)} ${lpad('p99', 7)} ${lpad('+p99', 7)} ${lpad('vCPU/1k', 8)}`);
  const d = s.direct;
  const h = s.haproxy;
  for (const v of ['cross-node', 'same-node', 'haproxy'] as const) {
    const x = s[v];
    if (!x) continue;
    for (const [refName, ref] of [
      ['direct', d],
      ['haproxy', h],
    ] as const) {
      if (!ref || ref === x) continue;
      const added = d && refName === 'haproxy' ? ratio(x.p99ms - d.p99ms, h!.p99ms - d.p99ms) : '—';
      const cpu = x.vcpuPer1000rps !== null && ref.vcpuPer1000rps !== null ? ratio(x.vcpuPer1000rps, ref.vcpuPer1000rps) : '—';
      lines.push(
        `${pad(`${v} / ${refName}`, 24)} ${lpad(ratio(x.gbps, ref.gbps), 8)} ${lpad(ratio(x.maxRps, ref.maxRps), 8)} ${lpad(ratio(x.p50ms, ref.p50ms), 7)} ${lpad(
          ratio(x.p99ms, ref.p99ms),
          7,
        )} ${lpad(added, 7)} ${lpad(cpu, 8)}`,
      );
    }
  }
  return lines;
}

interface TargetCheck {
  target: string;
  ambit: string;
  reference: string;
  pass: boolean;
}

function checkTargets(s: Partial<Record<Variant, VariantSummary>>): TargetCheck[] {
  const x = s['cross-node'];
  const h = s.haproxy;
  const d = s.direct;
  const out: TargetCheck[] = [];
  if (x && h) {
    out.push({ target: 'cross-node throughput >= haproxy pair', ambit: `${x.gbps} Gbit/s`, reference: `${h.gbps} Gbit/s`, pass: x.gbps >= h.gbps });
    out.push({ target: 'cross-node max rps (32 conns) >= haproxy pair', ambit: `${x.maxRps}`, reference: `${h.maxRps}`, pass: x.maxRps >= h.maxRps });
    if (d) {
      const ax = Math.round((x.p99ms - d.p99ms) * 1000) / 1000;
      const ah = Math.round((h.p99ms - d.p99ms) * 1000) / 1000;
      out.push({ target: `added p99 at ${RATE} rps <= haproxy pair's`, ambit: `+${ax} ms`, reference: `+${ah} ms`, pass: ax <= ah });
    }
    out.push({
      target: 'vCPU per 1000 rps <= haproxy pair',
      ambit: `${x.vcpuPer1000rps}`,
      reference: `${h.vcpuPer1000rps}`,
      pass: (x.vcpuPer1000rps ?? Infinity) <= (h.vcpuPer1000rps ?? 0),
    });
  }
  if (x) {
    for (const [name, mb] of Object.entries(x.rss1000Mb)) {
      out.push({
        target: `${name} RSS with ${HOLD} open connections < ${RSS_LIMIT_MB} MB`,
        ambit: `${mb} MB (own/anon ${x.anon1000Mb[name]} MB)`,
        reference: `${RSS_LIMIT_MB} MB`,
        pass: mb < RSS_LIMIT_MB,
      });
    }
  }
  return out;
}

// ------------------------------------------------------------------ profile of a miss

interface AgentProfile {
  phase: string;
  node: string;
  js: ProfileSummary;
  native?: PerfSummary;
}

const hasPerf = (): boolean => {
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** `perf record` (cpu-clock, 499 Hz) of process `pid` until the returned stop() is called. */
function startPerf(pid: number, file: string): { stop(): Promise<void> } | undefined {
  if (!hasPerf()) return undefined;
  const child = spawn('perf', ['record', '-F', '499', '-p', String(pid), '-o', file, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const handle = processCleanup.defer(`perf record ${child.pid}`, () => killChild(child));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGINT'); // perf writes its file and exits on SIGINT
      await Promise.race([exited, sleep(15_000)]);
      handle.cancel();
      await killChild(child).catch(() => undefined);
    },
  };
}

/**
 * A separate cluster whose agents run under `node --cpu-prof` (JS view) while `perf record` samples
 * them (native view: kernel, OpenSSL, nghttp2, V8); only the samples of the load window count.
 */
async function profileAgents(reason: string[], needBulk: boolean): Promise<AgentProfile[]> {
  const out: AgentProfile[] = [];
  const phases: Array<['requests' | 'bulk', string]> = [['requests', `fixed ${RATE} rps ${SECONDS} s + max rps 5 s, cross-node`]];
  if (needBulk) phases.push(['bulk', `iperf3 ${IPERF_SECONDS} s, cross-node`]);
  say('');
  say(`Profiling the agents (node --cpu-prof, perf record) because of: ${reason.join('; ')}`);
  const hrUs = (): number => Number(process.hrtime.bigint() / 1000n);
  for (const [phase, what] of phases) {
    const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-bench-prof-'));
    defer(`remove ${profDir}`, () => fs.rmSync(profDir, { recursive: true, force: true }), { sync: () => fs.rmSync(profDir, { recursive: true, force: true }) });
    // --cpu-prof is not allowed in NODE_OPTIONS; as a node flag of the CLI it reaches the agents through execArgv.
    const c = await clusterUp(`profile ${phase}`, { AMBIT_LOG_LEVEL: LOG_LEVEL }, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
    const t = targetFor('cross-node', c, []);
    await smoke(t);
    const perfFile = (pid: number): string => path.join(profDir, `perf-${pid}.data`);
    // One perf per agent: `perf report --pid` on a recording of several processes misattributes samples.
    const perfs = c.agents.map((a) => startPerf(a.pid, perfFile(a.pid)));
    const w0 = hrUs();
    if (phase === 'requests') {
      await load(t.client, { host: t.host, port: t.httpPort, mode: 'fixed', rate: RATE, seconds: SECONDS, warmupSeconds: 1, connections: 32 }, (SECONDS + 60) * 1000);
      await load(t.client, { host: t.host, port: t.httpPort, mode: 'max', seconds: 5, warmupSeconds: 1, connections: MAX_CONNECTIONS }, 60_000);
    } else {
      await iperf(t.client, t.host, t.iperfPort);
    }
    const w1 = hrUs();
    await Promise.all(perfs.map((p) => p?.stop()));
    const agentPids = new Map(c.agents.map((a) => [a.pid, a.node]));
    await c.down(); // the agents exit cleanly (SIGTERM, drain) and write their profiles
    const report = (pid: number) => (args: string[]): string =>
      execFileSync('perf', ['report', '-i', perfFile(pid), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
    const files = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    const before = out.length;
    for (const f of files) {
      const pid = Number(f.split('.')[3]);
      const node = agentPids.get(pid);
      if (node === undefined) continue;
      let native: PerfSummary | undefined;
      try {
        if (fs.existsSync(perfFile(pid))) native = summarizePerf(report(pid), pid);
      } catch (e) {
        say(`  perf report failed: ${(e as Error).message}`);
      }
      out.push({ phase: what, node, js: { ...summarizeProfile(path.join(profDir, f), 15, [w0, w1]), file: `${node} agent (pid ${pid})` }, native });
    }
    if (out.length === before) say(`  no agent profile was written for ${phase} (did an agent get SIGKILLed?)`);
  }
  return out.sort((a, b) => (a.phase === b.phase ? a.node.localeCompare(b.node) : 0));
}

function printProfiles(profiles: AgentProfile[]): string[] {
  const lines: string[] = [];
  for (const p of profiles) {
    lines.push('', `Profile — ${p.node} agent, ${p.phase}: ${p.js.totalMs} ms sampled in the load window, ${p.js.busyShare}% busy`);
    lines.push('  JS view (--cpu-prof), self time by file, share of busy time:', ...shareLines(p.js.topFiles, 8));
    lines.push('  JS view, top functions (self):', ...shareLines(p.js.topFunctions, 10));
    if (p.native) {
      lines.push('  native view (perf), by shared object:', ...shareLines(p.native.byDso, 6));
      lines.push('  native view, top symbols:', ...shareLines(p.native.bySymbol, 12));
    }
  }
  return lines;
}

// ------------------------------------------------------------------ main

function targetFor(v: Variant, c: Cluster, haproxy: Array<{ name: string; pid: number }>): Target {
  const agents = c.agents.map((a) => ({ name: `agent ${a.node}`, pid: a.pid }));
  switch (v) {
    case 'direct':
      return { client: c.pods.plainClient, host: c.pods.plainSrv.ip, httpPort: APP_PORT, iperfPort: IPERF_PORT, proxies: [] };
    case 'cross-node':
      return { client: c.pods.meshClient, host: c.pods.meshRemote.ip, httpPort: APP_PORT, iperfPort: IPERF_PORT, proxies: agents, expectTransport: 'hbone' };
    case 'same-node':
      return { client: c.pods.meshClient, host: c.pods.meshLocal.ip, httpPort: APP_PORT, iperfPort: IPERF_PORT, proxies: agents, expectTransport: 'local' };
    case 'haproxy':
      return { client: c.pods.plainClient, host: '127.0.0.1', httpPort: TUNNELS[0].listen, iperfPort: TUNNELS[1].listen, proxies: haproxy };
  }
}

function versions(): Record<string, string> {
  const first = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    node: process.version,
    kernel: os.release(),
    haproxy: first('haproxy', ['-v']),
    iperf3: first('iperf3', ['--version']),
    commit: first('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
  };
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error('needs root (it creates network namespaces, cgroups and loads eBPF through `ambit local up`)');
  if (!fs.existsSync(CLI) || !fs.existsSync(LOAD)) throw new Error(`build first: ${CLI} or ${LOAD} is missing (npm run bench:agent builds)`);
  ensureDebianPackages(['iperf3', 'haproxy', 'openssl']);
  const started = new Date();
  say(
    `Ambit agent data path: variants ${VARIANTS.join(', ')}; ${ROUNDS} round(s); iperf3 ${IPERF_SECONDS} s single stream; ${RATE} rps × ${SECONDS} s open loop (1 KiB); ` +
      `max rps over ${MAX_CONNECTIONS} connections; RSS with ${HOLD} open connections; log level ${LOG_LEVEL}; haproxy nbthread ${HAPROXY_THREADS}; load ${load1()}`,
  );
  const cluster = await clusterUp('bench', { AMBIT_LOG_LEVEL: LOG_LEVEL });
  let haproxy: Array<{ name: string; pid: number }> = [];
  if (VARIANTS.includes('haproxy')) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-bench-haproxy-'));
    defer(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }), { sync: () => fs.rmSync(dir, { recursive: true, force: true }) });
    haproxy = await startHaproxyPair(cluster, dir);
    say(`haproxy pair: ${haproxy.map((p) => `${p.name} pid ${p.pid}`).join(', ')}`);
  }
  const targets = Object.fromEntries(VARIANTS.map((v) => [v, targetFor(v, cluster, haproxy)])) as Record<Variant, Target>;
  const idle: Partial<Record<Variant, Record<string, Memory>>> = {};
  for (const v of VARIANTS) {
    await smoke(targets[v]);
    idle[v] = Object.fromEntries(targets[v].proxies.map((p) => [p.name, memoryOf(p.pid)!]));
  }
  const rounds: Partial<Record<Variant, RoundResult[]>> = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of VARIANTS) {
      const r = await measureRound(targets[v], round);
      (rounds[v] ??= []).push(r);
      say(
        `round ${round} ${pad(v, 10)} ${r.iperf.gbps.toFixed(2)} Gbit/s (load ${r.iperf.load1}) | ${RATE} rps: p50 ${(r.fixed.latency!.p50_us / 1000).toFixed(3)} p99 ${(
          r.fixed.latency!.p99_us / 1000
        ).toFixed(3)} ms, ${r.fixed.rps} rps done, ${r.fixed.errors} errors, proxy ${r.fixed.vcpuPer1000rps} vCPU/1k rps, generator ${r.fixed.generatorCpu} cores (load ${r.fixed.load1}) | max ${
          r.max.rps
        } rps p99 ${(r.max.latency!.p99_us / 1000).toFixed(2)} ms, proxy ${r.max.proxyCpuCores} cores, generator ${r.max.generatorCpu} cores (load ${r.max.load1})`,
      );
    }
  }
  const holds: Partial<Record<Variant, HoldResult>> = {};
  for (const v of VARIANTS) {
    if (v === 'direct') continue;
    holds[v] = await measureHold(targets[v], cluster.agents, idle[v] ?? {});
    say(`hold ${pad(v, 10)} ${holds[v]!.held} connections: RSS ${JSON.stringify(holds[v]!.rssMb)} MB, anon ${JSON.stringify(holds[v]!.anonMb)} (idle RSS ${JSON.stringify(holds[v]!.idleRssMb)}, anon ${JSON.stringify(holds[v]!.idleAnonMb)})${holds[v]!.transports ? `, agent connections ${JSON.stringify(holds[v]!.transports)}` : ''}`);
    await sleep(3_000); // let the closed connections go before the next variant
  }
  await cluster.down();

  const summary: Partial<Record<Variant, VariantSummary>> = {};
  for (const v of VARIANTS) summary[v] = summarizeVariant(rounds[v]!, holds[v], v !== 'direct');
  const checks = checkTargets(summary);
  const missed = checks.filter((c) => !c.pass);

  const report: string[] = [];
  report.push('', `Ambit agent data path — ${started.toISOString()}, medians of ${ROUNDS} round(s), 1-minute load ${Math.min(...allLoads(rounds))}–${Math.max(...allLoads(rounds))}`);
  report.push(...printTable(summary));
  report.push('', ...ratioLines(summary));
  if (checks.length > 0) {
    report.push('', 'Targets (issue 4), measured in this run:');
    for (const c of checks) report.push(`  ${c.pass ? 'PASS' : 'MISS'}  ${pad(c.target, 52)} Ambit ${c.ambit}  vs ${c.reference}`);
  }
  for (const l of report) say(l);

  const results = resultsFile('agent-dataplane', started);
  const json: Record<string, unknown> = {
    benchmark: 'agent-dataplane',
    startedAt: started.toISOString(),
    settings: { rounds: ROUNDS, variants: VARIANTS, rate: RATE, seconds: SECONDS, iperfSeconds: IPERF_SECONDS, maxConnections: MAX_CONNECTIONS, hold: HOLD, haproxyThreads: HAPROXY_THREADS, logLevel: LOG_LEVEL },
    machine: versions(),
    summary,
    targets: checks,
    rounds,
    holds,
  };
  results.save(json);
  say(`\nJSON results: ${path.relative(process.cwd(), results.file)}`);

  // Written before profiling, so a failed profile run loses no result.
  if (VARIANTS.includes('cross-node') && (PROFILE === 'always' || (PROFILE === 'auto' && missed.length > 0))) {
    const needBulk = missed.some((m) => m.target.includes('throughput')) || PROFILE === 'always';
    const profiles = await profileAgents(missed.length > 0 ? missed.map((m) => m.target) : ['AMBIT_BENCH_PROFILE=always'], needBulk);
    for (const l of printProfiles(profiles)) say(l);
    json.profiles = profiles;
    results.save(json);
    say(`\nJSON results (with profiles): ${path.relative(process.cwd(), results.file)}`);
  }
  return 0;
}

function allLoads(rounds: Partial<Record<Variant, RoundResult[]>>): number[] {
  return Object.values(rounds).flatMap((rs) => rs!.flatMap((r) => [r.iperf.load1, r.fixed.load1, r.max.load1]));
}

// Everything the run created (runtime, pods, agents, haproxy, temp files) is removed before exit,
// also after a failure; Ctrl-C runs the same cleanup (common/sandbox's process hooks).
runBenchmark('bench:agent', main);
