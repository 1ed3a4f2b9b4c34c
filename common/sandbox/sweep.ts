// Leftovers: sandbox resources (<family><pid36>-<n>) that survive their creator, e.g. after a
// SIGKILL or a jest timeout. The sweeper removes a resource only when the pid in its name no longer
// exists, so live runs (other jest workers, a running local runtime) are never disturbed; callers
// that know more (a recorded pid whose start time no longer matches) remove a run prefix directly.
import fs from 'node:fs';
import path from 'node:path';
import { findCgroup2Mount } from '../cgroup2';
import { BPFFS, removePinDir } from './bpffs';
import { removeCgroupTree } from './cgroup';
import { CleanupError, NotOursError } from './errors';
import { isSandboxPrefix, parseSandboxName, pidAlive, SandboxFamily } from './names';
import { deleteNetns, NETNS_DIR } from './netns';

export interface Leftovers {
  /** Network namespace names. */
  netns: string[];
  /** Absolute cgroup directories (top level of the cgroup2 mount). */
  cgroups: string[];
  /** Absolute bpffs pin directories. */
  pins: string[];
}

function namesIn(dir: string, prefix: string, dirsOnly: boolean): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.name.startsWith(prefix) && (!dirsOnly || e.isDirectory()))
    .map((e) => e.name)
    .sort();
}

/**
 * What exists now whose name starts with `prefix`: a family ('ambit-t') for every run's, or a run
 * prefix ('ambit-l2bq-') for one process's. Netns names come from /run/netns, which is exactly
 * what `ip netns list` reads.
 */
export function listLeftovers(prefix: string): Leftovers {
  if (!isSandboxPrefix(prefix)) throw new NotOursError(`prefix ${prefix}`, 'not a sandbox family or run prefix');
  const mount = findCgroup2Mount();
  return {
    netns: namesIn(NETNS_DIR, prefix, false),
    cgroups: namesIn(mount, prefix, true).map((n) => path.join(mount, n)),
    pins: namesIn(BPFFS, prefix, false).map((n) => path.join(BPFFS, n)),
  };
}

export const isEmpty = (l: Leftovers): boolean => l.netns.length + l.cgroups.length + l.pins.length === 0;

/**
 * Removes `found`: cgroups first (killing the processes in them, which also frees their netns),
 * then netns names, then pin directories. Tries everything, then throws one CleanupError listing
 * what failed.
 */
export async function removeLeftovers(found: Leftovers): Promise<void> {
  const errors: Error[] = [];
  const attempt = async (fn: () => unknown): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      errors.push(err as Error);
    }
  };
  for (const dir of found.cgroups) await attempt(() => removeCgroupTree(dir));
  for (const name of found.netns) await attempt(() => deleteNetns(name));
  for (const dir of found.pins) await attempt(() => removePinDir(dir));
  if (errors.length > 0) throw new CleanupError(errors);
}

function orphaned(name: string): boolean {
  const owner = parseSandboxName(name);
  return owner !== undefined && !pidAlive(owner.pid);
}

/** Removes the resources of `family` whose creating process is gone; returns what it removed. */
export async function sweepLeftovers(family: SandboxFamily): Promise<Leftovers> {
  const all = listLeftovers(family);
  const stale: Leftovers = {
    cgroups: all.cgroups.filter((p) => orphaned(path.basename(p))),
    netns: all.netns.filter(orphaned),
    pins: all.pins.filter((p) => orphaned(path.basename(p))),
  };
  await removeLeftovers(stale);
  return stale;
}
