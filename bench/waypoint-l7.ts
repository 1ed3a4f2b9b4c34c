/**
 * The waypoint (Ambit's L7 proxy) against nginx, haproxy and caddy as single-hop HTTP/1.1 reverse
 * proxies on loopback, all with the same route set (fixtures/l7-peers.ts, fixtures/waypoint-mesh.ts):
 *
 *   x-canary: 1 -> backend C;  other requests -> A / B weighted 90 / 10
 *
 * Backends: three fixtures/http-server processes on 127.0.0.11/12/13 (each names itself in
 * `x-served-by`). The waypoint runs from dist/waypoint/main.js with its plain listener (routed by
 * Host: app.bench.svc.cluster.local), configured by a real control plane serving a YAML directory.
 *
 * `waypoint-hbone` measures the full mesh path instead, with a second waypoint process and its
 * HBONE listener: load generator -> source agent (fixtures/hbone-edge.ts: one HBONE tunnel per
 * connection, :authority = app's VIP:80 in the ambient namespace bench-mesh) -> waypoint -> HBONE
 * to <backend pod IP>:15008 -> destination agent (fixtures/hbone-destination.ts) -> backends on
 * 127.0.0.21/22/23. The agents' CPU and memory are reported apart; the waypoint's are compared.
 * Before measuring, every proxy must pass a route check (1000 requests split ~90/10, canary
 * requests all at C); one that fails is reported and not measured.
 *
 * Per variant and round: latency at a fixed rate (open loop, small GET, keep-alive,
 * fixtures/fixed-rate-load.ts) and proxy CPU over that run; closed-loop max rps. Memory is sampled
 * (VmRSS, RssAnon, summed over the proxy's process tree) while it is loaded. Rounds interleave the
 * variants; the table shows medians, the JSON every round. When the waypoint misses a target it is
 * run again under `node --cpu-prof` and the top frames are printed.
 *
 * Environment: AMBIT_BENCH_ROUNDS (3), AMBIT_BENCH_VARIANTS (direct,waypoint,waypoint-hbone,haproxy,nginx,caddy),
 * AMBIT_BENCH_RATE (1000), AMBIT_BENCH_SECONDS (10), AMBIT_BENCH_MAX_SECONDS (5),
 * AMBIT_BENCH_CONNECTIONS (32, fixed rate), AMBIT_BENCH_MAX_CONNECTIONS (64), AMBIT_BENCH_BODY
 * (answer bytes, 256), AMBIT_BENCH_THREADS (1: nginx workers, haproxy nbthread, caddy GOMAXPROCS),
 * AMBIT_BENCH_BACKEND_PORT (8080), AMBIT_BENCH_LOG_LEVEL (warn), AMBIT_BENCH_PROFILE (auto|always|never).
 * Run: npm run bench:waypoint
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../common/project-root';
import { cleanupAll, defer } from '../common/sandbox';
import { summarizeProfile, type ProfileSummary } from './fixtures/cpu-profile';
import { ensureDebianPackages } from './fixtures/debian-tools';
import type { LoadOptions, LoadResult } from './fixtures/fixed-rate-load';
import { PEERS, peerLaunch, type PeerName, type RouteSet } from './fixtures/l7-peers';
import { cpuOf, load1, memoryOf } from './fixtures/proc-stats';
import { startProcess, tail, waitFor, type Started } from './fixtures/processes';
import { checkRoutes, formatRouteCheck, type RouteCheckOptions, type RouteCheckResult } from './fixtures/route-check';
import { startHboneAgents, type HboneAgents } from './fixtures/hbone-agents';
import {
  MESH_BACKEND_SERVICE_ACCOUNT,
  MESH_CLIENT_SERVICE_ACCOUNT,
  MESH_NAMESPACE,
  MESH_SERVICE_HOST,
  MESH_SERVICE_PORT,
  MESH_SERVICE_VIP,
  NAMESPACE,
  SERVICE_HOST,
  startMeshControlPlane,
  WAYPOINT_SERVICE_ACCOUNT,
  waypointEnv,
  type MeshControlPlane,
  type MeshLayout,
} from './fixtures/waypoint-mesh';

const env = process.env;
const num = (k: string, d: number): number => Number(env[k] ?? d);
const ROUNDS = num('AMBIT_BENCH_ROUNDS', 3);
const RATE = num('AMBIT_BENCH_RATE', 1000);
const SECONDS = num('AMBIT_BENCH_SECONDS', 10);
const MAX_SECONDS = num('AMBIT_BENCH_MAX_SECONDS', 5);
const CONNECTIONS = num('AMBIT_BENCH_CONNECTIONS', 32);
const MAX_CONNECTIONS = num('AMBIT_BENCH_MAX_CONNECTIONS', 64);
const BODY = num('AMBIT_BENCH_BODY', 256);
const THREADS = num('AMBIT_BENCH_THREADS', 1);
const BACKEND_PORT = num('AMBIT_BENCH_BACKEND_PORT', 8080);
const LOG_LEVEL = env.AMBIT_BENCH_LOG_LEVEL ?? 'warn';
const PROFILE = (env.AMBIT_BENCH_PROFILE ?? 'auto') as 'auto' | 'always' | 'never';
const ALL_VARIANTS = ['direct', 'waypoint', 'waypoint-hbone', ...PEERS] as const;
type Variant = (typeof ALL_VARIANTS)[number];
const VARIANTS = (env.AMBIT_BENCH_VARIANTS ?? ALL_VARIANTS.join(','))
  .split(',')
  .map((v) => v.trim())
  .filter((v): v is Variant => (ALL_VARIANTS as readonly string[]).includes(v));

const ROOT = projectRoot();
const WAYPOINT_MAIN = path.join(ROOT, 'dist', 'waypoint', 'main.js');
const LOAD = path.join(__dirname, 'fixtures', 'fixed-rate-load.js');
const HTTP_SERVER = path.join(__dirname, 'fixtures', 'http-server.js');
const RESULTS_DIR = path.join(ROOT, '.ambit', 'bench');
const TARGETS = { rpsVsHaproxy: 0.75, addedP99Ms: 0.5, vcpuPer1000rps: 0.06, rssMb: 60 };

const LAYOUT: MeshLayout = {
  backends: [
    { name: 'a', ip: '127.0.0.11' },
    { name: 'b', ip: '127.0.0.12' },
    { name: 'c', ip: '127.0.0.13' },
  ],
  backendPort: BACKEND_PORT,
  waypointIp: '127.0.0.10',
  canaryHeader: 'x-canary',
  canaryValue: '1',
  canaryBackend: 'c',
  split: [
    { name: 'a', weight: 90 },
    { name: 'b', weight: 10 },
  ],
  // The ambient namespace of waypoint-hbone: backends named a, b, c again, on their own IPs.
  mesh: VARIANTS.includes('waypoint-hbone')
    ? {
        backends: [
          { name: 'a', ip: '127.0.0.21' },
          { name: 'b', ip: '127.0.0.22' },
          { name: 'c', ip: '127.0.0.23' },
        ],
        clientIp: '127.0.0.20',
      }
    : undefined,
};
const TRUST_DOMAIN = 'cluster.local';
const WAYPOINT_ID = `spiffe://${TRUST_DOMAIN}/ns/${NAMESPACE}/sa/${WAYPOINT_SERVICE_ACCOUNT}`;
const backendAddress = (name: string): string => `${LAYOUT.backends.find((b) => b.name === name)!.ip}:${BACKEND_PORT}`;
const ROUTES: RouteSet = {
  canaryHeader: LAYOUT.canaryHeader,
  canaryValue: LAYOUT.canaryValue,
  canary: { name: 'c', address: backendAddress('c') },
  split: LAYOUT.split.map((s) => ({ backend: { name: s.name, address: backendAddress(s.name) }, weight: s.weight })),
};

const say = (...lines: string[]): void => void process.stdout.write(lines.map((l) => `${l}\n`).join(''));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const r3 = (v: number): number => Math.round(v * 1000) / 1000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const connectable = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

const httpStatus = (url: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });

// ------------------------------------------------------------------ the proxies under test

interface Proxy {
  variant: Variant;
  host: string;
  port: number;
  /** The Host header the route set is keyed on (the waypoint selects the Service by it). */
  hostHeader?: string;
  /** undefined for direct. */
  proc?: Started;
  /** waypoint-hbone: the source and destination agents around the waypoint. */
  agents?: HboneAgents;
}

async function startBackends(dir: string): Promise<void> {
  for (const b of [...LAYOUT.backends, ...(LAYOUT.mesh?.backends ?? [])]) {
    const p = startProcess(`backend ${b.name} ${b.ip}`, process.execPath, [HTTP_SERVER, String(BACKEND_PORT), String(BODY), b.ip, b.name], { logFile: path.join(dir, `backend-${b.name}-${b.ip}.log`) });
    await waitFor(`backend ${b.name} on ${b.ip}:${BACKEND_PORT}`, () => connectable(b.ip, BACKEND_PORT), 10_000, p);
  }
}

async function startPeer(name: PeerName, dir: string): Promise<Proxy> {
  const port = await freePort();
  const launch = peerLaunch(name, path.join(dir, name), `127.0.0.1:${port}`, ROUTES, THREADS);
  try {
    execFileSync(launch.check.cmd, launch.check.args, { env: launch.env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer };
    throw new Error(`${name} rejected its configuration: ${String(err.stderr ?? '')}${String(err.stdout ?? '')}`);
  }
  const proc = startProcess(name, launch.cmd, launch.args, { env: launch.env, logFile: path.join(dir, `${name}.log`) });
  await waitFor(`${name} listening on 127.0.0.1:${port}`, () => connectable('127.0.0.1', port), 15_000, proc);
  return { variant: name, host: '127.0.0.1', port, hostHeader: SERVICE_HOST, proc };
}

interface WaypointHandle {
  proxy: Proxy;
  readinessUrl: string;
  /** Its HBONE listener's port (on 127.0.0.1). */
  hbonePort: number;
}

async function startWaypoint(mesh: MeshControlPlane, dir: string, nodeFlags: string[] = [], variant: 'waypoint' | 'waypoint-hbone' = 'waypoint'): Promise<WaypointHandle> {
  if (!fs.existsSync(WAYPOINT_MAIN)) throw new Error(`${path.relative(ROOT, WAYPOINT_MAIN)} does not exist (waypoint not built yet?)`);
  const ports = { plain: await freePort(), hbone: await freePort(), admin: await freePort(), metrics: await freePort(), readiness: await freePort() };
  const stateDir = path.join(dir, `waypoint-state-${ports.plain}`);
  const proc = startProcess('waypoint', process.execPath, [...nodeFlags, WAYPOINT_MAIN], {
    env: waypointEnv(mesh, stateDir, ports, LOG_LEVEL),
    logFile: path.join(dir, `waypoint-${ports.plain}.log`),
    graceMs: 10_000,
  });
  const readinessUrl = `http://127.0.0.1:${ports.readiness}/healthz/ready`;
  let last = '';
  await waitFor(
    `the waypoint's ${readinessUrl} to answer 200`,
    async () => {
      const r = await httpStatus(readinessUrl);
      last = `${r.status} ${r.body.trim().slice(0, 300)}`;
      return r.status === 200;
    },
    30_000,
    proc,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n  last readiness answer: ${last || '(none)'}\n  control-plane problems: ${JSON.stringify(mesh.problems())}`);
  });
  return { proxy: { variant, host: '127.0.0.1', port: ports.plain, hostHeader: SERVICE_HOST, proc }, readinessUrl, hbonePort: ports.hbone };
}

/**
 * waypoint-hbone: a waypoint process of its own (only its HBONE listener carries load), the
 * destination agent on the ambient backends' <pod IP>:15008 and the source agent the load
 * generator connects to, which tunnels to the waypoint with :authority = app's VIP:80.
 */
async function startHboneVariant(mesh: MeshControlPlane, dir: string): Promise<Proxy> {
  const m = LAYOUT.mesh!;
  const wp = await startWaypoint(mesh, dir, [], 'waypoint-hbone');
  const agents = await startHboneAgents({
    dir,
    controlPlane: mesh.cp.grpcAddress,
    tokenFile: mesh.tokenFile,
    trustDomain: TRUST_DOMAIN,
    namespace: MESH_NAMESPACE,
    clientServiceAccount: MESH_CLIENT_SERVICE_ACCOUNT,
    backendServiceAccount: MESH_BACKEND_SERVICE_ACCOUNT,
    clientIp: m.clientIp,
    backendIps: m.backends.map((b) => b.ip),
    edgePort: await freePort(),
    waypoint: { address: '127.0.0.1', port: wp.hbonePort, namespace: NAMESPACE, serviceAccount: WAYPOINT_SERVICE_ACCOUNT },
    authority: `${MESH_SERVICE_VIP}:${MESH_SERVICE_PORT}`,
  });
  return { variant: 'waypoint-hbone', host: '127.0.0.1', port: agents.edgePort, hostHeader: MESH_SERVICE_HOST, proc: wp.proxy.proc, agents };
}

/**
 * Route checks through the edge prove the routes, not the transport: this one proves the path.
 * Every tunnel the edge opened reached the waypoint's identity, every tunnel the destination agent
 * accepted came from it, and neither refused or failed one.
 */
async function checkHbonePath(agents: HboneAgents): Promise<{ problems: string[]; line: string }> {
  await sleep(1_200); // the agents write their status once a second
  const edge = agents.edgeStatus();
  const dest = agents.destinationStatus();
  const problems: string[] = [];
  if (!edge || !dest) return { problems: ['the HBONE agents wrote no status'], line: '' };
  const others = (peers: Record<string, number>): string[] => Object.keys(peers).filter((p) => p !== WAYPOINT_ID);
  if (edge.tunnels === 0) problems.push('the edge opened no HBONE tunnel');
  if (dest.tunnels === 0) problems.push('the destination agent accepted no HBONE tunnel: the waypoint did not dial the ambient backends over HBONE');
  if (others(edge.peers).length > 0) problems.push(`the edge's tunnels ended at ${others(edge.peers).join(', ')}, not ${WAYPOINT_ID}`);
  if (others(dest.peers).length > 0) problems.push(`the destination agent's tunnels came from ${others(dest.peers).join(', ')}, not ${WAYPOINT_ID}`);
  if (edge.failures > 0) problems.push(`the edge failed to open ${edge.failures} tunnel(s): ${edge.errors.join('; ')}`);
  if (dest.failures > 0) problems.push(`the destination agent refused ${dest.failures} tunnel(s): ${dest.errors.join('; ')}`);
  const line =
    `         HBONE: edge (${edge.identity}) opened ${edge.tunnels} tunnels to ${Object.keys(edge.peers).join(', ') || '—'}; ` +
    `destination (${dest.identity}) accepted ${dest.tunnels} from ${Object.keys(dest.peers).join(', ') || '—'}`;
  return { problems, line };
}

function routeCheckOptions(p: Proxy): RouteCheckOptions {
  const total = LAYOUT.split.reduce((s, x) => s + x.weight, 0);
  return {
    host: p.host,
    port: p.port,
    hostHeader: p.hostHeader ?? `${p.host}:${p.port}`,
    canaryHeader: LAYOUT.canaryHeader,
    canaryValue: LAYOUT.canaryValue,
    split: LAYOUT.split.map((s) => ({ name: s.name, share: s.weight / total })),
    canaryBackend: LAYOUT.canaryBackend,
    requests: 1000,
    canaryRequests: 200,
    tolerance: 0.03,
  };
}

// ------------------------------------------------------------------ load and measurements

function load(p: Proxy, o: Omit<LoadOptions, 'host' | 'port'>, timeoutMs: number): Promise<LoadResult> {
  const opts: LoadOptions = { host: p.host, port: p.port, method: 'GET', hostHeader: p.hostHeader, ...o };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [LOAD, JSON.stringify(opts)], { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`load generator failed against ${p.variant}: ${err.message} ${stderr.trim()}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult);
    });
  });
}

interface MemoryPeak {
  rssMb: number;
  anonMb: number;
}

/** Max VmRSS / RssAnon of each process tree (summed over the tree), sampled every 200 ms while `fn` runs. */
async function sampleMemory<T, K extends string>(procs: Record<K, Started | undefined>, fn: () => Promise<T>): Promise<{ result: T; peaks: Record<K, MemoryPeak> }> {
  const keys = Object.keys(procs) as K[];
  const peaks = Object.fromEntries(keys.map((k) => [k, { rssMb: 0, anonMb: 0 }])) as Record<K, MemoryPeak>;
  const sample = (): void => {
    for (const k of keys) {
      const proc = procs[k];
      if (proc === undefined) continue;
      let r = 0;
      let a = 0;
      for (const pid of proc.tree()) {
        const m = memoryOf(pid);
        if (m) (r += m.rssMb), (a += m.anonMb);
      }
      peaks[k].rssMb = Math.max(peaks[k].rssMb, r);
      peaks[k].anonMb = Math.max(peaks[k].anonMb, a);
    }
  };
  sample();
  const timer = setInterval(sample, 200);
  try {
    const result = await fn();
    sample();
    for (const k of keys) peaks[k] = { rssMb: Math.round(peaks[k].rssMb * 10) / 10, anonMb: Math.round(peaks[k].anonMb * 10) / 10 };
    return { result, peaks };
  } finally {
    clearInterval(timer);
  }
}

/** What an HBONE agent (edge or destination) cost in one round; reported, not compared. */
interface AgentRound {
  /** Its cores over the fixed-rate run, per 1000 rps offered. */
  vcpuPer1000rps: number;
  /** Its cores during the max-rps run. */
  maxCores: number;
  rssMaxMb: number;
  anonMaxMb: number;
}

interface RoundResult {
  round: number;
  fixed: LoadResult & { proxyCpuSeconds: number; wallSeconds: number; vcpuPer1000rps: number; load1: number };
  max: LoadResult & { proxyCpuCores: number; load1: number };
  rssMaxMb: number;
  anonMaxMb: number;
  /** waypoint-hbone only. */
  agents?: { edge: AgentRound; destination: AgentRound };
}

async function measureRound(p: Proxy, round: number): Promise<RoundResult> {
  const trees = { proxy: p.proc, edge: p.agents?.edge, destination: p.agents?.destination };
  const cpuNow = (): Record<keyof typeof trees, number> => ({
    proxy: cpuOf(p.proc?.tree() ?? []),
    edge: cpuOf(p.agents?.edge.tree() ?? []),
    destination: cpuOf(p.agents?.destination.tree() ?? []),
  });
  const { result, peaks } = await sampleMemory(trees, async () => {
    const l1 = load1();
    let c0 = cpuNow();
    let t0 = performance.now();
    const fixed = await load(p, { mode: 'fixed', rate: RATE, seconds: SECONDS, warmupSeconds: 1, connections: CONNECTIONS }, (SECONDS + 60) * 1000);
    const c1 = cpuNow();
    const fixedWall = (performance.now() - t0) / 1000;
    const fixedCpu = { proxy: c1.proxy - c0.proxy, edge: c1.edge - c0.edge, destination: c1.destination - c0.destination };
    await sleep(500);
    const l2 = load1();
    c0 = cpuNow();
    t0 = performance.now();
    const max = await load(p, { mode: 'max', seconds: MAX_SECONDS, warmupSeconds: 1, connections: MAX_CONNECTIONS }, (MAX_SECONDS + 60) * 1000);
    const c2 = cpuNow();
    const maxWall = (performance.now() - t0) / 1000;
    const maxCpu = { proxy: c2.proxy - c0.proxy, edge: c2.edge - c0.edge, destination: c2.destination - c0.destination };
    return {
      // vCPU per 1000 rps: the proxy's cores over the fixed-rate run (connect + warm-up + window), per 1000 rps offered.
      fixed: { ...fixed, proxyCpuSeconds: r3(fixedCpu.proxy), wallSeconds: r3(fixedWall), vcpuPer1000rps: r3(fixedCpu.proxy / fixedWall / (RATE / 1000)), load1: l1 },
      max: { ...max, proxyCpuCores: r3(maxCpu.proxy / maxWall), load1: l2 },
      agentCpu: (k: 'edge' | 'destination') => ({ vcpuPer1000rps: r3(fixedCpu[k] / fixedWall / (RATE / 1000)), maxCores: r3(maxCpu[k] / maxWall) }),
    };
  });
  await sleep(500);
  const { agentCpu, ...measured } = result;
  const agents =
    p.agents === undefined
      ? undefined
      : {
          edge: { ...agentCpu('edge'), rssMaxMb: peaks.edge.rssMb, anonMaxMb: peaks.edge.anonMb },
          destination: { ...agentCpu('destination'), rssMaxMb: peaks.destination.rssMb, anonMaxMb: peaks.destination.anonMb },
        };
  return { round, ...measured, rssMaxMb: peaks.proxy.rssMb, anonMaxMb: peaks.proxy.anonMb, ...(agents ? { agents } : {}) };
}

// ------------------------------------------------------------------ reporting

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface VariantSummary {
  maxRps: number;
  p50ms: number;
  p99ms: number;
  addedP50ms: number | null;
  addedP99ms: number | null;
  vcpuPer1000rps: number | null;
  rssMaxMb: number | null;
  anonMaxMb: number | null;
  errors: number;
  spreads: { maxRps: [number, number]; p99ms: [number, number]; vcpuPer1000rps: [number, number] };
  /** waypoint-hbone: the agents around the waypoint (medians; RSS the max), not in the figures above. */
  agents?: { edge: AgentRound; destination: AgentRound };
}

function summarizeAgent(rounds: AgentRound[]): AgentRound {
  return {
    vcpuPer1000rps: r3(median(rounds.map((r) => r.vcpuPer1000rps))),
    maxCores: r3(median(rounds.map((r) => r.maxCores))),
    rssMaxMb: Math.max(...rounds.map((r) => r.rssMaxMb)),
    anonMaxMb: Math.max(...rounds.map((r) => r.anonMaxMb)),
  };
}

function summarize(rounds: RoundResult[], direct: RoundResult[] | undefined, hasProxy: boolean): VariantSummary {
  const p = (k: 'p50_us' | 'p99_us', rs: RoundResult[]): number => median(rs.map((r) => (r.fixed.latency?.[k] ?? 0) / 1000));
  const rps = rounds.map((r) => r.max.rps);
  const p99s = rounds.map((r) => (r.fixed.latency?.p99_us ?? 0) / 1000);
  const cpu = rounds.map((r) => r.fixed.vcpuPer1000rps);
  const range = (xs: number[]): [number, number] => [r3(Math.min(...xs)), r3(Math.max(...xs))];
  return {
    maxRps: Math.round(median(rps)),
    p50ms: r3(p('p50_us', rounds)),
    p99ms: r3(p('p99_us', rounds)),
    addedP50ms: hasProxy && direct ? r3(p('p50_us', rounds) - p('p50_us', direct)) : null,
    addedP99ms: hasProxy && direct ? r3(p('p99_us', rounds) - p('p99_us', direct)) : null,
    vcpuPer1000rps: hasProxy ? r3(median(cpu)) : null,
    rssMaxMb: hasProxy ? Math.max(...rounds.map((r) => r.rssMaxMb)) : null,
    anonMaxMb: hasProxy ? Math.max(...rounds.map((r) => r.anonMaxMb)) : null,
    errors: rounds.reduce((s, r) => s + r.fixed.errors + r.max.errors, 0),
    spreads: { maxRps: range(rps), p99ms: range(p99s), vcpuPer1000rps: range(cpu) },
    ...(rounds.every((r) => r.agents !== undefined)
      ? { agents: { edge: summarizeAgent(rounds.map((r) => r.agents!.edge)), destination: summarizeAgent(rounds.map((r) => r.agents!.destination)) } }
      : {}),
  };
}

const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);
const f = (v: number | null, digits = 3): string => (v === null ? '—' : v.toFixed(digits));

function table(s: Partial<Record<Variant, VariantSummary>>): string[] {
  const head = ['variant', 'max rps', 'p50 ms', 'p99 ms', '+p50 ms', '+p99 ms', 'vCPU/1k rps', 'RSS max MB', 'anon max MB', 'errors'];
  const w = [14, 8, 7, 7, 8, 8, 12, 11, 12, 7];
  const lines = [head.map((h, i) => (i === 0 ? pad(h, w[i]) : lpad(h, w[i]))).join(' ')];
  for (const v of ALL_VARIANTS) {
    const x = s[v];
    if (!x) continue;
    const cells = [v, String(x.maxRps), f(x.p50ms), f(x.p99ms), f(x.addedP50ms), f(x.addedP99ms), f(x.vcpuPer1000rps), f(x.rssMaxMb, 1), f(x.anonMaxMb, 1), String(x.errors)];
    lines.push(cells.map((c, i) => (i === 0 ? pad(c, w[i]) : lpad(c, w[i]))).join(' '));
  }
  return lines;
}

/** The HBONE agents of waypoint-hbone: their own CPU and memory, apart from the waypoint's row. */
function agentLines(s: Partial<Record<Variant, VariantSummary>>): string[] {
  const a = s['waypoint-hbone']?.agents;
  if (!a) return [];
  const row = (name: string, x: AgentRound): string =>
    `  ${pad(name, 26)} ${lpad(f(x.vcpuPer1000rps), 12)} ${lpad(f(x.maxCores), 15)} ${lpad(f(x.rssMaxMb, 1), 11)} ${lpad(f(x.anonMaxMb, 1), 12)}`;
  const sum = (k: keyof AgentRound): number => r3(a.edge[k] + a.destination[k]);
  return [
    'waypoint-hbone agents (separate processes; not in the waypoint-hbone row):',
    `  ${pad('agent', 26)} ${lpad('vCPU/1k rps', 12)} ${lpad('cores at max', 15)} ${lpad('RSS max MB', 11)} ${lpad('anon max MB', 12)}`,
    row('edge (source agent)', a.edge),
    row('destination agent', a.destination),
    row('both', { vcpuPer1000rps: sum('vcpuPer1000rps'), maxCores: sum('maxCores'), rssMaxMb: sum('rssMaxMb'), anonMaxMb: sum('anonMaxMb') }),
  ];
}

function ratios(s: Partial<Record<Variant, VariantSummary>>): string[] {
  const ratio = (a: number | null, b: number | null): string => (a === null || b === null || b === 0 ? '—' : `×${(a / b).toFixed(2)}`);
  const line = (name: string, x: VariantSummary, to: VariantSummary): string =>
    `${pad(name, 29)} ${lpad(ratio(x.maxRps, to.maxRps), 8)} ${lpad(ratio(x.addedP50ms, to.addedP50ms), 7)} ${lpad(ratio(x.addedP99ms, to.addedP99ms), 7)} ${lpad(
      ratio(x.vcpuPer1000rps, to.vcpuPer1000rps),
      8,
    )} ${lpad(ratio(x.rssMaxMb, to.rssMaxMb), 7)}`;
  const head = (name: string): string => `${pad(name, 29)} ${lpad('max rps', 8)} ${lpad('+p50', 7)} ${lpad('+p99', 7)} ${lpad('vCPU/1k', 8)} ${lpad('RSS', 7)}`;
  const lines: string[] = [];
  const h = s.haproxy;
  if (!h) lines.push('(no haproxy run: no ratios to haproxy)');
  else {
    lines.push(head('ratio to haproxy'));
    for (const v of ['waypoint', 'waypoint-hbone', 'nginx', 'caddy'] as const) {
      const x = s[v];
      if (x) lines.push(line(`${v} / haproxy`, x, h));
    }
  }
  const wp = s.waypoint;
  const hb = s['waypoint-hbone'];
  if (wp && hb) lines.push('', head('HBONE path to plain listener'), line('waypoint-hbone / waypoint', hb, wp));
  return lines;
}

interface TargetCheck {
  target: string;
  waypoint: string;
  pass: boolean;
}

function checkTargets(s: Partial<Record<Variant, VariantSummary>>): TargetCheck[] {
  const w = s.waypoint;
  if (!w) return [];
  const out: TargetCheck[] = [];
  const h = s.haproxy;
  if (h) out.push({ target: `max rps >= ${TARGETS.rpsVsHaproxy}× haproxy (${h.maxRps})`, waypoint: `${w.maxRps} (×${(w.maxRps / h.maxRps).toFixed(2)})`, pass: w.maxRps >= TARGETS.rpsVsHaproxy * h.maxRps });
  if (w.addedP99ms !== null) out.push({ target: `added p99 at ${RATE} rps <= +${TARGETS.addedP99Ms} ms`, waypoint: `+${w.addedP99ms} ms`, pass: w.addedP99ms <= TARGETS.addedP99Ms });
  out.push({ target: `vCPU per 1000 rps <= ${TARGETS.vcpuPer1000rps}`, waypoint: `${w.vcpuPer1000rps}`, pass: (w.vcpuPer1000rps ?? Infinity) <= TARGETS.vcpuPer1000rps });
  out.push({ target: `RSS (max during the run) < ${TARGETS.rssMb} MB`, waypoint: `${w.rssMaxMb} MB (anon ${w.anonMaxMb} MB)`, pass: (w.rssMaxMb ?? Infinity) < TARGETS.rssMb });
  return out;
}

// ------------------------------------------------------------------ profile of a miss

/** A second waypoint under `node --cpu-prof`, loaded like a round; the top frames of the load window. */
async function profileWaypoint(mesh: MeshControlPlane, dir: string): Promise<ProfileSummary[]> {
  const profDir = path.join(dir, 'profile');
  fs.mkdirSync(profDir, { recursive: true });
  const wp = await startWaypoint(mesh, dir, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  const out: ProfileSummary[] = [];
  try {
    const check = await checkRoutes(routeCheckOptions(wp.proxy));
    if (!check.pass) say(`  (profiled waypoint failed its route check: ${check.problems.join('; ')})`);
    const hrUs = (): number => Number(process.hrtime.bigint() / 1000n);
    const phases: Array<[string, () => Promise<LoadResult>]> = [
      [`fixed ${RATE} rps × ${SECONDS} s`, () => load(wp.proxy, { mode: 'fixed', rate: RATE, seconds: SECONDS, warmupSeconds: 1, connections: CONNECTIONS }, (SECONDS + 60) * 1000)],
      [`max rps, ${MAX_CONNECTIONS} connections × ${MAX_SECONDS} s`, () => load(wp.proxy, { mode: 'max', seconds: MAX_SECONDS, warmupSeconds: 1, connections: MAX_CONNECTIONS }, (MAX_SECONDS + 60) * 1000)],
    ];
    const windows: Array<[string, number, number]> = [];
    for (const [what, run] of phases) {
      const w0 = hrUs();
      await run();
      windows.push([what, w0, hrUs()]);
    }
    await wp.proxy.proc!.stop(15_000); // SIGTERM: the waypoint drains, exits and writes its profile
    const file = fs.readdirSync(profDir).find((x) => x.endsWith('.cpuprofile'));
    if (file === undefined) {
      say(`  no .cpuprofile was written (did the waypoint exit on SIGTERM? log: ${wp.proxy.proc!.logFile})`);
      return out;
    }
    for (const [what, w0, w1] of windows) out.push({ ...summarizeProfile(path.join(profDir, file), 20, [w0, w1]), file: what });
  } finally {
    await wp.proxy.proc!.stop();
  }
  return out;
}

function printProfiles(profiles: ProfileSummary[]): string[] {
  const lines: string[] = [];
  for (const p of profiles) {
    lines.push('', `Waypoint profile — ${p.file}: ${p.totalMs} ms sampled, ${p.busyShare}% busy`);
    lines.push('  self time by file (share of busy time):');
    for (const r of p.topFiles.slice(0, 10)) lines.push(`    ${lpad(r.share.toFixed(1), 5)}%  ${r.name}`);
    lines.push('  top functions (self):');
    for (const r of p.topFunctions.slice(0, 15)) lines.push(`    ${lpad(r.share.toFixed(1), 5)}%  ${r.name}`);
  }
  return lines;
}

// ------------------------------------------------------------------ main

function versions(): Record<string, string> {
  const first = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
    } catch (e) {
      // nginx -v prints to stderr
      return String((e as { stderr?: string }).stderr ?? 'unknown').split('\n')[0].trim() || 'unknown';
    }
  };
  return {
    node: process.version,
    kernel: os.release(),
    haproxy: first('haproxy', ['-v']),
    nginx: execFileSync('sh', ['-c', 'nginx -v 2>&1 || true'], { encoding: 'utf8' }).trim(),
    caddy: first('caddy', ['version']),
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
  };
}

async function main(): Promise<number> {
  if (!fs.existsSync(LOAD) || !fs.existsSync(HTTP_SERVER)) throw new Error(`build first: ${LOAD} is missing (npm run bench:waypoint builds)`);
  const debs: Record<PeerName, string> = { haproxy: 'haproxy', nginx: 'nginx-light', caddy: 'caddy' };
  const peers = PEERS.filter((p) => VARIANTS.includes(p));
  if (peers.length > 0) ensureDebianPackages(peers.map((p) => debs[p]));
  const started = new Date();
  say(
    `Ambit waypoint L7: variants ${VARIANTS.join(', ')}; ${ROUNDS} round(s); GET with ${BODY}-byte answers; ${RATE} rps × ${SECONDS} s open loop over ${CONNECTIONS} connections; ` +
      `max rps over ${MAX_CONNECTIONS} connections × ${MAX_SECONDS} s; ${THREADS} worker/thread per peer; load ${load1()}`,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-bench-waypoint-'));
  defer(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }), { sync: () => fs.rmSync(dir, { recursive: true, force: true }) });
  await startBackends(dir);

  const proxies: Partial<Record<Variant, Proxy>> = {};
  const failures: Partial<Record<Variant, string>> = {};
  if (VARIANTS.includes('direct')) proxies.direct = { variant: 'direct', host: LAYOUT.backends[0].ip, port: BACKEND_PORT };
  let mesh: MeshControlPlane | undefined;
  const waypoints = (['waypoint', 'waypoint-hbone'] as const).filter((v) => VARIANTS.includes(v));
  if (waypoints.length > 0) {
    try {
      mesh = await startMeshControlPlane(dir, LAYOUT);
      const m = mesh;
      defer('close the control plane', () => m.close());
    } catch (e) {
      for (const v of waypoints) failures[v] = `control plane: ${(e as Error).message}`;
    }
  }
  for (const v of mesh === undefined ? [] : waypoints) {
    try {
      proxies[v] = v === 'waypoint' ? (await startWaypoint(mesh!, dir)).proxy : await startHboneVariant(mesh!, dir);
    } catch (e) {
      failures[v] = (e as Error).message;
    }
  }
  for (const p of peers) {
    try {
      proxies[p] = await startPeer(p, dir);
    } catch (e) {
      failures[p] = (e as Error).message;
    }
  }

  say('', 'Route check (before measuring): plain requests split A/B 90/10, x-canary: 1 -> C (waypoint-hbone: through the edge agent, then the HBONE path checked)');
  const routeChecks: Partial<Record<Variant, RouteCheckResult>> = {};
  for (const v of VARIANTS) {
    const p = proxies[v];
    if (v === 'direct') continue;
    if (p === undefined) {
      say(`  FAIL ${pad(v, 9)} not started: ${failures[v]}`);
      continue;
    }
    const o = routeCheckOptions(p);
    const r = await checkRoutes(o);
    let hboneLine = '';
    if (p.agents !== undefined) {
      const onPath = await checkHbonePath(p.agents);
      hboneLine = onPath.line;
      if (onPath.problems.length > 0) Object.assign(r, { pass: false, problems: [...r.problems, ...onPath.problems] });
    }
    routeChecks[v] = r;
    for (const l of formatRouteCheck(v, r, o)) say(l);
    if (hboneLine) say(hboneLine);
    if (!r.pass) {
      failures[v] = `route check failed: ${r.problems.join('; ')}`;
      delete proxies[v];
    }
  }
  const measured = VARIANTS.filter((v) => proxies[v] !== undefined);
  say('');

  const rounds: Partial<Record<Variant, RoundResult[]>> = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of measured) {
      const r = await measureRound(proxies[v]!, round);
      (rounds[v] ??= []).push(r);
      say(
        `round ${round} ${pad(v, 8)} ${RATE} rps: p50 ${(r.fixed.latency!.p50_us / 1000).toFixed(3)} p99 ${(r.fixed.latency!.p99_us / 1000).toFixed(3)} ms, ${r.fixed.rps} rps done, ` +
          `${r.fixed.errors} errors, proxy ${r.fixed.vcpuPer1000rps} vCPU/1k rps, generator ${r.fixed.generatorCpu} cores (load ${r.fixed.load1}) | max ${r.max.rps} rps, ` +
          `p99 ${(r.max.latency!.p99_us / 1000).toFixed(2)} ms, ${r.max.errors} errors, proxy ${r.max.proxyCpuCores} cores, generator ${r.max.generatorCpu} cores | RSS max ${r.rssMaxMb} MB` +
          (r.agents
            ? ` | agents: edge ${r.agents.edge.vcpuPer1000rps} + destination ${r.agents.destination.vcpuPer1000rps} vCPU/1k rps, ` +
              `${r.agents.edge.maxCores} + ${r.agents.destination.maxCores} cores at max`
            : ''),
      );
      const p = proxies[v]!;
      for (const proc of [p.proc, p.agents?.edge, p.agents?.destination]) {
        if (proc !== undefined && !proc.alive()) throw new Error(`${v}: ${proc.name} exited during round ${round}:\n${tail(proc.logFile)}`);
      }
    }
  }

  const summary: Partial<Record<Variant, VariantSummary>> = {};
  for (const v of measured) summary[v] = summarize(rounds[v]!, rounds.direct, v !== 'direct');
  const checks = checkTargets(summary);
  const missed = checks.filter((c) => !c.pass);
  const loads = Object.values(rounds).flatMap((rs) => rs!.flatMap((r) => [r.fixed.load1, r.max.load1]));

  const report: string[] = ['', `Ambit waypoint L7 — ${started.toISOString()}, medians of ${ROUNDS} round(s), 1-minute load ${Math.min(...loads)}–${Math.max(...loads)}`];
  report.push(...table(summary));
  if (summary['waypoint-hbone']?.agents) report.push('', ...agentLines(summary));
  report.push('', ...ratios(summary));
  if (checks.length > 0) {
    report.push('', 'Targets, measured in this run:');
    for (const c of checks) report.push(`  ${c.pass ? 'PASS' : 'MISS'}  ${pad(c.target, 44)} waypoint ${c.waypoint}`);
  }
  const hboneAgents = proxies['waypoint-hbone']?.agents;
  if (hboneAgents !== undefined) {
    // Relay errors here are resets of tunnels (e.g. the generator closing its connections), failures are tunnels never opened.
    await sleep(1_200);
    const show = (name: string, st: ReturnType<HboneAgents['edgeStatus']>): string =>
      st ? `${name} ${st.tunnels} tunnels, ${st.failures} failed, ${st.relayErrors} ended by an error or reset${st.errors.length ? ` (${st.errors.join('; ')})` : ''}` : `${name}: no status`;
    report.push('', `waypoint-hbone agents over the whole run: ${show('edge', hboneAgents.edgeStatus())}; ${show('destination', hboneAgents.destinationStatus())}`);
  }
  for (const [v, why] of Object.entries(failures)) report.push('', `NOT MEASURED: ${v}: ${why}`);
  for (const l of report) say(l);

  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `waypoint-l7-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const json: Record<string, unknown> = {
    benchmark: 'waypoint-l7',
    startedAt: started.toISOString(),
    settings: { rounds: ROUNDS, variants: VARIANTS, rate: RATE, seconds: SECONDS, maxSeconds: MAX_SECONDS, connections: CONNECTIONS, maxConnections: MAX_CONNECTIONS, bodyBytes: BODY, threads: THREADS, logLevel: LOG_LEVEL },
    machine: versions(),
    targets: TARGETS,
    summary,
    targetChecks: checks,
    routeChecks,
    failures,
    rounds,
  };
  const save = (): void => {
    fs.writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
    fs.copyFileSync(file, path.join(RESULTS_DIR, 'waypoint-l7-latest.json'));
  };
  save();
  say(`\nJSON results: ${path.relative(process.cwd(), file)}`);

  // After the JSON is written, so a failed profile run loses no result.
  if (mesh !== undefined && summary.waypoint !== undefined && (PROFILE === 'always' || (PROFILE === 'auto' && missed.length > 0))) {
    say('', `Profiling the waypoint (node --cpu-prof) because of: ${missed.length > 0 ? missed.map((m) => m.target).join('; ') : 'AMBIT_BENCH_PROFILE=always'}`);
    // The measured waypoint goes first, so the profiled one has the CPU to itself.
    await proxies.waypoint!.proc!.stop();
    const profiles = await profileWaypoint(mesh, dir);
    for (const l of printProfiles(profiles)) say(l);
    json.profiles = profiles;
    save();
    say(`\nJSON results (with profile): ${path.relative(process.cwd(), file)}`);
  }
  return waypoints.some((v) => failures[v] !== undefined) ? 2 : 0;
}

// Everything started (backends, proxies, the waypoint, the control plane, temp files) is removed
// before exit, also after a failure or Ctrl-C (common/sandbox's process hooks).
main()
  .then(
    (code) => code,
    (e: Error) => {
      console.error(`bench:waypoint failed: ${e.stack ?? e.message}`);
      return 1;
    },
  )
  .then(async (code) => {
    await cleanupAll().catch((e: Error) => {
      console.error(`cleanup: ${e.message}`);
      code ||= 1;
    });
    process.exit(code);
  });
