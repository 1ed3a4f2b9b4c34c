/**
 * Control-plane scale: 10k pods, 1k services, 1k policies (bench/fixtures/scale-objects.ts), served
 * to 100 simulated agents (bench/fixtures/config-subscribers.ts: the real ConfigClient, in 2 child
 * processes, one connection each). Measures, in this process (the control plane):
 *   - translation: the whole mesh from objects to served resources (cold start of the model);
 *   - snapshot: from the moment all 100 agents subscribe (the server then builds the snapshot: its
 *     encode cache is cold) until the last one has decoded and applied it (ConfigClient 'update');
 *   - one pod changed: from the change entering the model until the last agent has the delta;
 *   - control-plane RSS at the end, and its peak;
 *   - one agent's decode of the snapshot alone (the codec ConfigClient uses), cold and warm.
 * Reported against the targets as ratios (measured / target; below 1 meets the target).
 *
 * Peers: istiod cannot run on this machine (no cluster, no images, no internet), so no side-by-side
 * run; docs and bench/README.md say so instead of quoting other people's numbers as ours.
 * Run: npm run bench:control-plane   (no root needed)
 */
import { ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BootstrapTokenAuthenticator } from '../control-plane/auth/bootstrap-token-authenticator';
import { startControlPlane } from '../control-plane/control-plane';
import { MeshModel } from '../control-plane/model/mesh-model';
import { StaticSource } from '../control-plane/sources/static-source';
import { decodeWatchResponse } from '../common/proto/codec';
import { createClientFilter } from '../control-plane/push/client-filter';
import { resourceBytes, SnapshotCache } from '../control-plane/push/resource-bytes';
import { parseSubscribe } from '../control-plane/push/subscription';
import { VersionClock } from '../control-plane/push/versions';
import type { Arrival } from './fixtures/config-subscribers';
import { DEFAULT_SHAPE, scaleObjects, scalePod } from './fixtures/scale-objects';

const SUBSCRIBERS = Number(process.env.AMBIT_BENCH_SUBSCRIBERS ?? 100);
const PROCESSES = Number(process.env.AMBIT_BENCH_PROCESSES ?? 2);
const ROUNDS = Number(process.env.AMBIT_BENCH_ROUNDS ?? 5);
const now = (): number => performance.timeOrigin + performance.now();
const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;

function startSubscribers(address: string, nodes: string[]): Promise<{ children: ChildProcess[]; arrivals: Arrival[]; snapshotCpuMs: number[] }> {
  const script = path.join(__dirname, 'fixtures', 'config-subscribers.js');
  const arrivals: Arrival[] = [];
  const snapshotCpuMs: number[] = [];
  const per = Math.ceil(nodes.length / PROCESSES);
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let p = 0; p < PROCESSES; p++) {
    const child = fork(script, [address, ...nodes.slice(p * per, (p + 1) * per)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    ready.push(
      new Promise((resolve, reject) => {
        child.on('message', (m: { ready?: boolean; error?: string; received?: Arrival; snapshotCpuMs?: number }) => {
          if (m.ready) resolve();
          if (m.error) reject(new Error(m.error));
          if (m.received) arrivals.push(m.received);
          if (m.snapshotCpuMs !== undefined) snapshotCpuMs.push(m.snapshotCpuMs);
        });
        child.on('exit', (code) => reject(new Error(`subscriber process exited with ${code}`)));
      }),
    );
  }
  return Promise.all(ready).then(() => ({ children, arrivals, snapshotCpuMs }));
}

/** Polls `cond`. Times come from the subscribers' own clocks, so a coarse poll costs no accuracy
 * and keeps this process's CPU (counted as the control plane's) for the control plane. */
async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The snapshot an agent gets, its size per resource type, and one agent's decode of it. */
function snapshotFacts(cp: Awaited<ReturnType<typeof startControlPlane>>): { bytes: number; byType: string; decodeColdMs: number; decodeWarmMs: number } {
  const store = cp.model.resources;
  const filter = createClientFilter(parseSubscribe({ client: 'node', node: 'node-0', types: [], clientId: '', lastAcceptedVersion: '' }), store);
  const snap = new SnapshotCache(store, new VersionClock('bench')).get(filter);
  const byType = new Map<string, number>();
  for (const r of store.all()) if (filter.visible(r)) byType.set(r.type, (byType.get(r.type) ?? 0) + resourceBytes(r).length);
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    decodeWatchResponse(snap.bytes);
    times.push(performance.now() - t);
  }
  return {
    bytes: snap.bytes.length,
    byType: [...byType].map(([t, b]) => `${t} ${mb(b)} MB`).join(', '),
    decodeColdMs: times[0],
    decodeWarmMs: median(times.slice(1)),
  };
}

async function main(): Promise<void> {
  const objects = scaleObjects(DEFAULT_SHAPE);
  const source = new StaticSource('bench', []);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-bench-cp-'));
  const cp = await startControlPlane({
    sources: [source],
    stateDir,
    nodeAuthenticator: new BootstrapTokenAuthenticator(stateDir),
    grpcListen: '127.0.0.1:0',
    httpListen: '127.0.0.1:0',
  });
  const children: ChildProcess[] = [];
  try {
    // Translation timed on a model of its own (the control plane's source also validates).
    const t0 = performance.now();
    new MeshModel().sinkFor('translation-only').apply({ upsert: objects, remove: [] });
    const translateMs = performance.now() - t0;
    const v0 = performance.now();
    source.update(objects);
    const loadMs = performance.now() - v0;
    const resources = [...cp.model.resources.all()].length;

    const nodes = Array.from({ length: SUBSCRIBERS }, (_, i) => `node-${i}`);
    const subs = await startSubscribers(cp.grpcAddress, nodes);
    children.push(...subs.children);

    const go = now();
    const cpuAtGo = process.cpuUsage();
    for (const c of subs.children) c.send({ cmd: 'go' });
    // Generous: on a busy 2-core machine 100 agents decoding can take tens of seconds.
    await waitFor(() => subs.arrivals.length >= SUBSCRIBERS, 'every snapshot', 180_000);
    const serverCpu = process.cpuUsage(cpuAtGo);
    await waitFor(() => subs.snapshotCpuMs.length >= subs.children.length, 'the subscribers\' CPU figures');
    const agentCpuMs = subs.snapshotCpuMs.reduce((a, b) => a + b, 0) / SUBSCRIBERS;
    const serverCpuMs = (serverCpu.user + serverCpu.system) / 1000;
    const snapshotArrivals = subs.arrivals.slice(0, SUBSCRIBERS);
    const snapshotMs = Math.max(...snapshotArrivals.map((a) => a.at)) - go;
    const firstMs = Math.min(...snapshotArrivals.map((a) => a.at)) - go;
    if (snapshotArrivals.some((a) => a.resources === 0 || a.resources !== snapshotArrivals[0].resources)) {
      throw new Error(`subscribers got different snapshots: ${[...new Set(snapshotArrivals.map((a) => a.resources))].join(', ')} resources`);
    }

    // One pod changes (a label: its workload and its service's endpoints stay, the workload updates).
    const changeMs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const before = subs.arrivals.length;
      const changedAt = now();
      source.update([scalePod(42, DEFAULT_SHAPE, { round: String(r) })]);
      await waitFor(() => subs.arrivals.length >= before + SUBSCRIBERS, 'every delta');
      changeMs.push(Math.max(...subs.arrivals.slice(before).map((a) => a.at)) - changedAt);
      await new Promise((res) => setTimeout(res, 50));
    }
    const rss = process.memoryUsage().rss;
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const facts = snapshotFacts(cp);
    const agentResources = snapshotArrivals[0].resources;

    const rows: Array<[string, string, string, string]> = [
      ['translation of the whole mesh (cold)', `${translateMs.toFixed(0)} ms`, '—', '—'],
      ['validation + translation (what a cold start pays)', `${loadMs.toFixed(0)} ms`, '—', '—'],
      [`snapshot (${agentResources} resources, ${mb(facts.bytes)} MB) decoded by all ${SUBSCRIBERS} agents`, `${snapshotMs.toFixed(0)} ms (first ${firstMs.toFixed(0)})`, '< 1000 ms', `×${(snapshotMs / 1000).toFixed(2)}`],
      [`one pod changed -> all ${SUBSCRIBERS} agents (median of ${ROUNDS})`, `${median(changeMs).toFixed(1)} ms`, '< 100 ms', `×${(median(changeMs) / 100).toFixed(2)}`],
      ['control-plane RSS after fan-out', `${mb(rss)} MB`, '< 300 MB', `×${(rss / 300e6).toFixed(2)}`],
      ['control-plane peak RSS', `${mb(peakRss)} MB`, '< 300 MB', `×${(peakRss / 300e6).toFixed(2)}`],
      ['control-plane CPU for the snapshot fan-out', `${serverCpuMs.toFixed(0)} ms`, '—', '—'],
      ['CPU per agent for its snapshot (receive, decode, apply)', `${agentCpuMs.toFixed(0)} ms`, '—', '—'],
      ['one agent decoding its snapshot alone (cold / warm)', `${facts.decodeColdMs.toFixed(0)} / ${facts.decodeWarmMs.toFixed(0)} ms`, '—', '—'],
    ];
    console.log(`control-plane scale: ${DEFAULT_SHAPE.pods} pods, ${DEFAULT_SHAPE.services} services, ${DEFAULT_SHAPE.policies} policies, ${SUBSCRIBERS} subscribers, ${os.cpus().length} CPUs`);
    console.log('| measure | measured | target | ratio |\n|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    console.log(`deltas: ${changeMs.map((m) => m.toFixed(1)).join(', ')} ms; snapshot bytes: ${facts.byType}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    for (const c of children) {
      c.send({ cmd: 'exit' });
      c.kill('SIGTERM');
    }
    await cp.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`control-plane scale benchmark failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
