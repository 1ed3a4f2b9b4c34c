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
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defer } from '../common/sandbox';
import { ensureDebianPackages } from './fixtures/debian-tools';
import { PEERS, type PeerName, type RouteSet } from './fixtures/l7-peers';
import { LOAD_GENERATOR, measureRound, profileWaypoint, type LoadPlan, type RoundResult } from './fixtures/l7-measure';
import { checkTargets, hboneRunLine, machine, profileLines, roundLine, summarize, summaryLines, type L7Targets, type Summaries } from './fixtures/l7-report';
import { ALL_VARIANTS, HTTP_SERVER, checkVariant, startBackends, startVariants, type Variant, type VariantSetup } from './fixtures/l7-variants';
import { load1 } from './fixtures/proc-stats';
import { tail } from './fixtures/processes';
import type { RouteCheckResult } from './fixtures/route-check';
import { pad } from './fixtures/report-table';
import { resultsFile, runBenchmark, selectVariants } from './fixtures/run-benchmark';
import type { MeshLayout } from './fixtures/waypoint-mesh';

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
const VARIANTS = selectVariants(ALL_VARIANTS);
const PLAN: LoadPlan = { rate: RATE, seconds: SECONDS, connections: CONNECTIONS, maxSeconds: MAX_SECONDS, maxConnections: MAX_CONNECTIONS };
const TARGETS: L7Targets = { rpsVsHaproxy: 0.75, addedP99Ms: 0.5, vcpuPer1000rps: 0.06, rssMb: 60 };

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
const backendAddress = (name: string): string => `${LAYOUT.backends.find((b) => b.name === name)!.ip}:${BACKEND_PORT}`;
const ROUTES: RouteSet = {
  canaryHeader: LAYOUT.canaryHeader,
  canaryValue: LAYOUT.canaryValue,
  canary: { name: 'c', address: backendAddress('c') },
  split: LAYOUT.split.map((s) => ({ backend: { name: s.name, address: backendAddress(s.name) }, weight: s.weight })),
};

const say = (...lines: string[]): void => void process.stdout.write(lines.map((l) => `${l}\n`).join(''));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  if (!fs.existsSync(LOAD_GENERATOR) || !fs.existsSync(HTTP_SERVER)) throw new Error(`build first: ${LOAD_GENERATOR} is missing (npm run bench:waypoint builds)`);
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
  await startBackends(dir, LAYOUT, BODY);
  const setup: VariantSetup = { dir, layout: LAYOUT, routes: ROUTES, threads: THREADS, logLevel: LOG_LEVEL };
  const { proxies, failures, mesh } = await startVariants(VARIANTS, setup);

  say('', 'Route check (before measuring): plain requests split A/B 90/10, x-canary: 1 -> C (waypoint-hbone: through the edge agent, then the HBONE path checked)');
  const routeChecks: Partial<Record<Variant, RouteCheckResult>> = {};
  for (const v of VARIANTS) {
    const p = proxies[v];
    if (v === 'direct') continue;
    if (p === undefined) {
      say(`  FAIL ${pad(v, 9)} not started: ${failures[v]}`);
      continue;
    }
    const { result: r, lines } = await checkVariant(p, LAYOUT);
    routeChecks[v] = r;
    say(...lines);
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
      const r = await measureRound(proxies[v]!, round, PLAN);
      (rounds[v] ??= []).push(r);
      say(roundLine(v, r, RATE));
      const p = proxies[v]!;
      for (const proc of [p.proc, p.agents?.edge, p.agents?.destination]) {
        if (proc !== undefined && !proc.alive()) throw new Error(`${v}: ${proc.name} exited during round ${round}:\n${tail(proc.logFile)}`);
      }
    }
  }

  const summary: Summaries = {};
  for (const v of measured) summary[v] = summarize(rounds[v]!, rounds.direct, v !== 'direct');
  const checks = checkTargets(summary, TARGETS, RATE);
  const missed = checks.filter((c) => !c.pass);

  const report = summaryLines(started, rounds, ROUNDS, summary, checks);
  const hboneAgents = proxies['waypoint-hbone']?.agents;
  if (hboneAgents !== undefined) {
    await sleep(1_200); // the agents write their status once a second
    report.push('', hboneRunLine(hboneAgents));
  }
  for (const [v, why] of Object.entries(failures)) report.push('', `NOT MEASURED: ${v}: ${why}`);
  say(...report);

  const results = resultsFile('waypoint-l7', started);
  const json: Record<string, unknown> = {
    benchmark: 'waypoint-l7',
    startedAt: started.toISOString(),
    settings: { rounds: ROUNDS, variants: VARIANTS, rate: RATE, seconds: SECONDS, maxSeconds: MAX_SECONDS, connections: CONNECTIONS, maxConnections: MAX_CONNECTIONS, bodyBytes: BODY, threads: THREADS, logLevel: LOG_LEVEL },
    machine: machine(),
    targets: TARGETS,
    summary,
    targetChecks: checks,
    routeChecks,
    failures,
    rounds,
  };
  results.save(json);
  say(`\nJSON results: ${path.relative(process.cwd(), results.file)}`);

  // After the JSON is written, so a failed profile run loses no result.
  if (mesh !== undefined && summary.waypoint !== undefined && (PROFILE === 'always' || (PROFILE === 'auto' && missed.length > 0))) {
    say('', `Profiling the waypoint (node --cpu-prof) because of: ${missed.length > 0 ? missed.map((m) => m.target).join('; ') : 'AMBIT_BENCH_PROFILE=always'}`);
    // The measured waypoint goes first, so the profiled one has the CPU to itself.
    await proxies.waypoint!.proc!.stop();
    const profiles = await profileWaypoint(mesh, setup, PLAN);
    say(...profileLines(profiles));
    json.profiles = profiles;
    results.save(json);
    say(`\nJSON results (with profile): ${path.relative(process.cwd(), results.file)}`);
  }
  const waypoints = (['waypoint', 'waypoint-hbone'] as const).filter((v) => VARIANTS.includes(v));
  return waypoints.some((v) => failures[v] !== undefined) ? 2 : 0;
}

// Everything started (backends, proxies, the waypoint, the control plane, temp files) is removed
// before exit, also after a failure or Ctrl-C (common/sandbox's process hooks).
runBenchmark('bench:waypoint', main);
