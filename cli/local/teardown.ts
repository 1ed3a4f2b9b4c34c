// Removing a local runtime and everything it made, from its runtime.json: used by `down`, and by
// `up` when it finds the record of a runtime that died. Works whether the runtime stops by itself
// (SIGTERM), has to be killed, or was SIGKILLed long ago:
//   1. the runtime: SIGTERM only while pid AND start time match the record, wait, then SIGKILL;
//   2. recorded container processes still running (pid and start time match): SIGKILL;
//   3. the cgroup root (killing whatever still runs in it), recorded netns, the pin directory
//      (the agents' pinned capture: unlinking the pins detaches it), and — when the
//      runtime's pid is not in use by anyone — every netns/cgroup/pin named with its prefix,
//      which catches what it created after its last record write;
//   4. the state files.
import fs from 'node:fs';
import path from 'node:path';
import {
  deleteNetns,
  isRunning,
  listLeftovers,
  pidAlive,
  removeCgroupTree,
  removeLeftovers,
  type Leftovers,
  type ProcessIdentity,
} from '../../common/sandbox';
import { LocalError, LocalErrorCodes } from './errors';
import { RECORD_VERSION, type RuntimeRecord } from './runtime-record';
import { readJson, type StatePaths } from './state-dir';

export interface TeardownOptions {
  /** How long the runtime may take to stop after SIGTERM before it is SIGKILLed. */
  stopTimeoutMs?: number;
  print: (line: string) => void;
}

export const readRuntimeRecord = (paths: StatePaths): RuntimeRecord | undefined => readJson<RuntimeRecord>(paths.runtime, RECORD_VERSION);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitGone(id: ProcessIdentity, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(id)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Stops the recorded runtime process; returns what happened, for the report. */
export async function stopRuntimeProcess(id: ProcessIdentity, timeoutMs: number): Promise<string> {
  if (!isRunning(id)) return `runtime pid ${id.pid} is not running`;
  const t0 = Date.now();
  process.kill(id.pid, 'SIGTERM');
  if (await waitGone(id, timeoutMs)) return `runtime pid ${id.pid} stopped after SIGTERM (${((Date.now() - t0) / 1000).toFixed(1)} s)`;
  if (isRunning(id)) process.kill(id.pid, 'SIGKILL');
  if (!(await waitGone(id, 5_000))) throw new LocalError(LocalErrorCodes.TEARDOWN, `runtime pid ${id.pid} survived SIGKILL`);
  return `runtime pid ${id.pid} did not stop within ${timeoutMs / 1000} s of SIGTERM; killed (SIGKILL)`;
}

/** What of the record's resources still exists (netns names, cgroup dirs, running processes). */
function stillThere(rec: RuntimeRecord): Leftovers & { processes: ProcessIdentity[] } {
  const netns = [rec.fabricNetns, ...rec.nodes.map((n) => n.netns), ...rec.pods.map((p) => p.netns)].filter(
    (n): n is string => n !== undefined && fs.existsSync(`/run/netns/${n}`),
  );
  const cgroups = rec.cgroupRoot !== undefined && fs.existsSync(rec.cgroupRoot) ? [rec.cgroupRoot] : [];
  // The agents leave capture pinned when they exit; it goes with the cluster's pin directory.
  const pins = rec.pinDir !== undefined && fs.existsSync(rec.pinDir) ? [rec.pinDir] : [];
  const processes = rec.pods.flatMap((p) => p.processes).filter((p) => isRunning(p));
  // The prefix sweep is safe only while nobody uses the runtime's pid: a recycled pid could be a
  // new runtime creating names with the same prefix.
  const swept = pidAlive(rec.runtime.pid) ? { netns: [], cgroups: [], pins: [] } : listLeftovers(rec.prefix);
  return {
    netns: [...new Set([...netns, ...swept.netns])].sort(),
    cgroups: [...new Set([...cgroups, ...swept.cgroups])].sort(),
    pins: [...new Set([...pins, ...swept.pins])].sort(),
    processes,
  };
}

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

function describe(l: ReturnType<typeof stillThere>): string {
  return [
    count(l.processes.length, 'process', 'processes'),
    count(l.netns.length, 'netns', 'netns'),
    count(l.cgroups.length, 'cgroup tree', 'cgroup trees'),
    count(l.pins.length, 'pin dir', 'pin dirs'),
  ].join(', ');
}

/** Removes the state files and, when empty, the state directory; returns what it removed. */
function removeStateFiles(paths: StatePaths): string[] {
  const removed: string[] = [];
  for (const p of [paths.runtime, paths.status, paths.runtimeLog, paths.logs, paths.controlPlane, paths.agents, paths.waypoints]) {
    if (!fs.existsSync(p)) continue;
    fs.rmSync(p, { recursive: true, force: true });
    removed.push(path.basename(p));
  }
  try {
    fs.rmdirSync(paths.dir);
  } catch {
    // not empty (someone else's files) or already gone: leave it
  }
  return removed;
}

/**
 * Everything `down` does; idempotent (a second run finds nothing and says so). Throws TEARDOWN
 * listing what could not be removed.
 */
export async function teardownRuntime(paths: StatePaths, opts: TeardownOptions): Promise<void> {
  const { print } = opts;
  const rec = readRuntimeRecord(paths);
  if (rec === undefined) {
    const files = removeStateFiles(paths);
    print(files.length > 0 ? `no runtime record in ${paths.dir}; removed stale files: ${files.join(', ')}` : `nothing to remove: no local runtime in ${paths.dir}`);
    return;
  }
  const before = stillThere(rec);
  print(await stopRuntimeProcess(rec.runtime, opts.stopTimeoutMs ?? 20_000));
  const left = stillThere(rec);
  const gone = (a: string[], b: string[]): string[] => a.filter((x) => !b.includes(x));
  const byRuntime = {
    netns: gone(before.netns, left.netns),
    cgroups: gone(before.cgroups, left.cgroups),
    pins: [],
    processes: before.processes.filter((p) => !isRunning(p)),
  };
  if (byRuntime.netns.length + byRuntime.cgroups.length + byRuntime.processes.length > 0) {
    print(`the runtime removed: ${describe(byRuntime)}`);
  }

  const errors: Error[] = [];
  for (const p of left.processes) {
    try {
      if (isRunning(p)) process.kill(p.pid, 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') errors.push(err as Error);
    }
  }
  // cgroups first: killing what runs there also releases the netns it held.
  for (const dir of left.cgroups) await removeCgroupTree(dir).catch((e: Error) => errors.push(e));
  for (const name of left.netns) await deleteNetns(name).catch((e: Error) => errors.push(e));
  await removeLeftovers({ netns: [], cgroups: [], pins: left.pins }).catch((e: Error) => errors.push(e));
  if (left.processes.length + left.netns.length + left.cgroups.length + left.pins.length > 0) {
    print(`removed: ${describe(left)}`);
    for (const n of left.netns) print(`  netns ${n}`);
    for (const c of left.cgroups) print(`  cgroup ${c}`);
  }
  if (errors.length > 0) {
    throw new LocalError(LocalErrorCodes.TEARDOWN, `could not remove everything (${errors.map((e) => e.message).join('; ')}); runtime.json kept, run \`ambit local down\` again`);
  }
  const files = removeStateFiles(paths);
  print(`state files removed from ${paths.dir}: ${files.join(', ') || 'none left'}`);
}
