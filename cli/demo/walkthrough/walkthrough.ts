/**
 * `ambit demo`: the local mesh walkthrough. Brings up the control plane, two node agents, a
 * waypoint and bookinfo-lite (plus a steady client) as ambient pods, then walks through what the
 * mesh does — each step changes the mesh as a user would and prints what it measured. Exits 0
 * only when every step measured what it expected. Ctrl-C (or SIGTERM) at any point tears
 * everything down; `--keep` leaves the mesh running afterwards for the dashboard.
 */
import { listLeftovers } from '../../../common/sandbox';
import { readRuntimeRecord } from '../../local/teardown';
import { Progress } from '../progress';
import { DemoMesh, NAMESPACE, type DemoMeshOptions } from './demo-mesh';
import { requestsFrom, untilOutcome } from './pod-requests';
import type { Step, StepContext, StepResult } from './step';
import { authzStep } from './steps/authz';
import { canaryStep } from './steps/canary';
import { dashboardStep } from './steps/dashboard';
import { mtlsStep } from './steps/mtls';
import { retriesStep } from './steps/retries';
import { trafficStep } from './steps/traffic';

export interface WalkthroughOptions extends DemoMeshOptions {
  /** Leave the mesh running at the end (default: tear it down). */
  keep: boolean;
}

const STEPS: readonly Step[] = [trafficStep, mtlsStep, authzStep, canaryStep, retriesStep, dashboardStep];

const out = (line: string): void => void process.stdout.write(`${line}\n`);

export async function runWalkthrough(opts: WalkthroughOptions): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('ambit demo: needs root (pods are network namespaces and cgroups, capture is eBPF); run it with sudo\n');
    return 1;
  }
  const progress = new Progress(STEPS.length + 2);
  const mesh = new DemoMesh(opts);
  const results: StepResult[] = [];
  const started = Date.now();

  // Ctrl-C / SIGTERM: tear down whatever exists, then leave with the signal's status.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    out(`\n${signal}: tearing the mesh down…`);
    void mesh.down((l) => out(`      ${l}`)).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    progress.step('Bring up the mesh: control plane, 2 node agents, a waypoint, bookinfo-lite and a client');
    const t0 = Date.now();
    const files = mesh.prepare();
    progress.detail(`YAML in ${mesh.dir}: ${files.join(', ')}; namespace ${NAMESPACE} labelled istio.io/use-waypoint=waypoint`);
    await mesh.up(90);
    const pods = await waitAllReady(mesh, 90_000);
    const serviceUrl = (service: string, path: string): string => {
      const s = mesh.status().services.find((x) => x.name === service && x.namespace === NAMESPACE);
      if (s === undefined) throw new Error(`no Service ${NAMESPACE}/${service}`);
      return `http://${s.clusterIP}:${s.ports[0].port}${path}`;
    };
    const warmMs = await untilOutcome(
      'a first page through the whole mesh',
      () => requestsFrom(mesh, 'loadgen', serviceUrl('productpage', '/'), 1, 1),
      (o) => o[0]?.status === 200 && o[0].reviews !== undefined,
      60_000,
    );
    const enrolled = mesh.status().pods.filter((p) => p.enrolled === 'enrolled').length;
    progress.detail(`${pods} pods ready on ${mesh.status().nodes.length} nodes; ${enrolled} enrolled in the mesh (the waypoint terminates HBONE itself)`);
    progress.detail(`first page through the mesh ${warmMs} ms after the pods were ready; up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    results.push({ title: 'Mesh up', ok: true, figure: `${pods} pods on 2 nodes in ${((Date.now() - t0) / 1000).toFixed(1)} s`, ms: Date.now() - t0 });

    for (const step of STEPS) {
      if (stopping) break;
      progress.step(step.title);
      results.push(await runStep(step, mesh, progress, serviceUrl));
    }
  } catch (err) {
    progress.fail((err as Error).message);
    results.push({ title: 'Mesh up', ok: false, figure: (err as Error).message, ms: Date.now() - started });
  } finally {
    if (!stopping) await finish(mesh, progress, opts);
  }

  const ok = results.every((r) => r.ok) && results.length === STEPS.length + 1;
  out('\nSummary (every figure measured in this run):');
  for (const r of results) out(`  ${r.ok ? '✓' : '✗'} ${r.title.padEnd(13)} ${r.figure}  (${(r.ms / 1000).toFixed(1)} s)`);
  progress.summary(ok, ok ? `walkthrough passed in ${((Date.now() - started) / 1000).toFixed(0)} s` : 'walkthrough failed: see ✗ above');
  return ok ? 0 : 1;
}

async function runStep(step: Step, mesh: DemoMesh, progress: Progress, serviceUrl: StepContext['serviceUrl']): Promise<StepResult> {
  const t0 = Date.now();
  let ok = true;
  const ctx: StepContext = {
    mesh,
    progress,
    serviceUrl,
    check: (good, detail) => {
      if (good) progress.detail(`✓ ${detail}`);
      else {
        ok = false;
        progress.fail(detail);
      }
    },
  };
  const short = step.title.split(':')[0];
  try {
    const figure = await step.run(ctx);
    return { title: short, ok, figure, ms: Date.now() - t0 };
  } catch (err) {
    progress.fail((err as Error).message);
    return { title: short, ok: false, figure: (err as Error).message, ms: Date.now() - t0 };
  }
}

async function waitAllReady(mesh: DemoMesh, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pods = mesh.status().pods;
    const notReady = pods.filter((p) => !p.ready);
    if (pods.length > 0 && notReady.length === 0) return pods.length;
    if (Date.now() > deadline) {
      throw new Error(`pods not ready after ${timeoutMs / 1000} s: ${notReady.map((p) => `${p.name} (${p.message ?? p.phase})`).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Tears the mesh down (or, with --keep, says how to) and reports what was left behind. */
async function finish(mesh: DemoMesh, progress: Progress, opts: WalkthroughOptions): Promise<void> {
  if (opts.keep && mesh.controlPlaneUrl() !== undefined) {
    const url = mesh.controlPlaneUrl();
    progress.done('The mesh keeps running (--keep)');
    if (url !== undefined) progress.detail(`dashboard: ${url}/dashboard`);
    progress.detail(`YAML: ${mesh.dir} (edit it: the mesh follows)`);
    progress.detail(`stop it with: sudo ambit local down --state-dir ${opts.stateDir}`);
    return;
  }
  progress.done('Tearing down');
  const prefix = readRuntimeRecord(mesh.paths)?.prefix;
  await mesh.down((l) => progress.detail(l));
  if (prefix !== undefined) {
    const left = listLeftovers(prefix);
    progress.detail(`left behind: ${left.netns.length} netns, ${left.cgroups.length} cgroups, ${left.pins.length} bpffs pins`);
  }
}
