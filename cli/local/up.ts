// `ambit local up -f <dir>`: checks first (root, no runtime already running for the state
// directory, a directory without errors) and creates nothing unless all pass; then runs the
// runtime in the background (default) or in this terminal (--foreground).
import path from 'node:path';
import { isRunning } from '../../common/sandbox';
import { startInBackground } from './background';
import { checkDirectory, formatProblem } from './config-check';
import { runForeground } from './foreground';
import { statePaths } from './state-dir';
import { renderStatus } from './status-view';
import { readRuntimeRecord, teardownRuntime } from './teardown';
import { waitForPods } from './wait-ready';

export interface UpArgs {
  file: string;
  stateDir: string;
  foreground: boolean;
  wait: number;
  grpcListen: string;
  httpListen: string;
  /** Set by `up` itself when it starts the background runtime. */
  progressFd?: number;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const err = (line: string): void => void process.stderr.write(`${line}\n`);

/** Refusals that apply before anything is created; returns an exit code, or undefined to go on. */
async function preflight(args: UpArgs): Promise<number | undefined> {
  if (process.getuid?.() !== 0) {
    err('ambit local up: needs root (it creates network namespaces and cgroups); run it with sudo');
    return 1;
  }
  const paths = statePaths(args.stateDir);
  const rec = readRuntimeRecord(paths);
  if (rec !== undefined && isRunning(rec.runtime)) {
    err(`ambit local up: a local runtime is already running for ${paths.dir} (pid ${rec.runtime.pid}, config ${rec.dir}, since ${rec.startedAt})`);
    err(`  stop it first with \`ambit local down --state-dir ${paths.dir}\`, or pass another --state-dir`);
    return 1;
  }
  if (args.progressFd !== undefined) return undefined; // the `up` that started us checked the rest
  if (rec !== undefined) {
    out(`found the record of a runtime that is gone (pid ${rec.runtime.pid}); removing what it left behind first`);
    await teardownRuntime(paths, { print: (l) => out(`  ${l}`) });
  }
  let check;
  try {
    check = await checkDirectory(args.file);
  } catch (e) {
    err(`ambit local up: ${(e as Error).message}`);
    return 1;
  }
  const errors = check.problems.filter((p) => p.severity === 'error');
  for (const p of check.problems) (p.severity === 'error' ? err : out)(formatProblem(p));
  if (errors.length > 0) {
    err(`ambit local up: ${errors.length} error(s) in ${path.resolve(args.file)}; fix them and run again (nothing was created)`);
    return 1;
  }
  const nodes = check.nodeNames.length > 0 ? check.nodeNames.join(', ') : 'node1';
  out(`${path.resolve(args.file)}: ${check.pods} pods, ${check.services} services; nodes: ${nodes}`);
  return undefined;
}

export async function localUp(args: UpArgs): Promise<number> {
  const refused = await preflight(args);
  if (refused !== undefined) return refused;
  const paths = statePaths(args.stateDir);
  const dir = path.resolve(args.file);
  if (args.foreground || args.progressFd !== undefined) {
    return runForeground({ dir, paths, grpcListen: args.grpcListen, httpListen: args.httpListen, waitSeconds: args.wait, progressFd: args.progressFd });
  }
  const t0 = Date.now();
  const started = await startInBackground({ dir, paths, grpcListen: args.grpcListen, httpListen: args.httpListen, print: (l) => out(`  ${l}`) });
  if (!started.ok) {
    err(`ambit local up: ${started.error}`);
    // Normally the runtime cleaned up before exiting; if it crashed, its record says what is left.
    if (readRuntimeRecord(paths) !== undefined) await teardownRuntime(paths, { print: (l) => out(`  ${l}`) }).catch((e: Error) => err(e.message));
    return 1;
  }
  const runtimeGone = (): boolean => {
    const rec = readRuntimeRecord(paths);
    return rec === undefined || !isRunning(rec.runtime);
  };
  const doc = await waitForPods(paths, args.wait * 1000, runtimeGone);
  if (runtimeGone()) {
    err(`ambit local up: the runtime stopped right after starting; see ${paths.runtimeLog}`);
    return 1;
  }
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  out('');
  if (doc !== undefined) for (const line of renderStatus(doc)) out(line);
  const ready = doc?.pods.filter((p) => p.ready).length ?? 0;
  out('');
  out(`up in ${seconds} s: ${ready}/${doc?.pods.length ?? 0} pods ready; runtime pid ${started.pid}, logs in ${paths.dir}`);
  out(`\`ambit local status\` shows this again; \`ambit local down\` removes everything`);
  return 0;
}
