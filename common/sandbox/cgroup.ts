// Sandbox cgroups: one root per cluster, <cgroup2 mount>/<family><pid36>-<n>, with node and pod
// cgroups below it. The agent attaches its cgroup-bpf programs to a node cgroup, never to the
// machine's root cgroup. Everything in here refuses paths outside a sandbox-named top directory, so
// a bug cannot signal processes of the host.
import fs from 'node:fs';
import path from 'node:path';
import { findCgroup2Mount } from '../cgroup2';
import { CleanupStack } from './cleanup';
import { NotOursError } from './errors';
import { isSandboxName } from './names';

/** Throws unless `p` is <cgroup2 mount>/<sandbox name>[/...]. Returns the normalized path. */
export function assertSandboxCgroup(p: string, mount: string = findCgroup2Mount()): string {
  const rel = path.relative(mount, path.resolve(p));
  const top = rel.split(path.sep)[0];
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel) || !isSandboxName(top)) {
    throw new NotOursError(`cgroup ${p}`, `not inside a sandbox-named directory of ${mount}`);
  }
  return path.join(mount, rel);
}

/** mkdir a cgroup (its parent must exist) and register its teardown on `cleanup`. */
export function createCgroup(p: string, cleanup: CleanupStack): string {
  const dir = assertSandboxCgroup(p);
  fs.mkdirSync(dir); // no `recursive`: an existing directory would not be ours to remove
  cleanup.defer(`cgroup ${dir}`, () => removeCgroupTree(dir), { sync: () => removeCgroupTreeSync(dir) });
  return dir;
}

/** `dir` and every cgroup below it, deepest first (the order rmdir needs). */
export function cgroupTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
    out.push(d);
  };
  walk(dir);
  return out;
}

/** Pids listed in `dir`/cgroup.procs ([] when the cgroup is gone). */
export function cgroupProcs(dir: string): number[] {
  try {
    return fs
      .readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Absolute path of the cgroup v2 directory `pid` is in (the `0::` line of /proc/PID/cgroup). */
export function cgroupOfPid(pid: number | 'self'): string {
  const line = fs
    .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'));
  if (line === undefined) throw new Error(`/proc/${pid}/cgroup has no cgroup v2 (0::) line`);
  return path.join(findCgroup2Mount(), line.slice(3));
}

/**
 * One teardown step: freeze the tree (so nothing forks while we kill), SIGKILL every listed pid
 * (all started in the sandbox), then rmdir deepest-first. Returns true once the tree is gone.
 */
function teardownStep(dirs: readonly string[]): boolean {
  if (dirs.length === 0) return true;
  try {
    fs.writeFileSync(path.join(dirs[dirs.length - 1], 'cgroup.freeze'), '1');
  } catch {
    // gone already, or a kernel without the v2 freezer: killing in a loop still converges
  }
  let busy = false;
  for (const dir of dirs) {
    for (const pid of cgroupProcs(dir)) {
      try {
        process.kill(pid, 'SIGKILL'); // fatal signals also reach frozen tasks
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
  }
  for (const dir of dirs) {
    try {
      fs.rmdirSync(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // EBUSY: a killed task has not finished exiting yet. ENOENT: already removed.
      if (code === 'EBUSY' || code === 'ENOTEMPTY') busy = true;
      else if (code !== 'ENOENT') throw err;
    }
  }
  return !busy;
}

function giveUp(dir: string, timeoutMs: number): Error {
  const left = cgroupTree(dir).flatMap((d) => cgroupProcs(d).map((pid) => `${pid} in ${d}`));
  return new Error(`cgroup ${dir} still busy after ${timeoutMs} ms (processes: ${left.join(', ') || 'none'})`);
}

/** Kills everything in the cgroup tree at `dir` and removes it. */
export async function removeCgroupTree(dir: string, timeoutMs = 10_000): Promise<void> {
  dir = assertSandboxCgroup(dir);
  const deadline = Date.now() + timeoutMs;
  while (!teardownStep(cgroupTree(dir))) {
    if (Date.now() > deadline) throw giveUp(dir, timeoutMs);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Blocking variant for the process 'exit' path. */
export function removeCgroupTreeSync(dir: string, timeoutMs = 5_000): void {
  dir = assertSandboxCgroup(dir);
  const deadline = Date.now() + timeoutMs;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (!teardownStep(cgroupTree(dir))) {
    if (Date.now() > deadline) throw giveUp(dir, timeoutMs);
    Atomics.wait(nap, 0, 0, 10);
  }
}
