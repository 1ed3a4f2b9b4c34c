// Names of everything the harness creates. Every name carries the creating process's pid so a
// later run can tell a leftover of a crashed run (pid gone) from a live run's resource (pid alive).
//
//   ambit-t<pid36>-<n36>   netns, cgroup roots, bpffs pin dirs   e.g. ambit-t1k3-4
//   av<pid36><n36>         node-side veth of a pod               e.g. av1k3b
//   af<pid36><n36>         node-to-node veth                     e.g. af1k3c
import * as fs from 'fs';
import { findCgroup2Mount } from '../../common/cgroup2';

export const NAME_PREFIX = 'ambit-t';

/** Linux IFNAMSIZ is 16 including the NUL. */
export const MAX_IFNAME = 15;

const pid36 = (pid: number): string => pid.toString(36);

/** `ambit-t<pid36>-`: the prefix of every resource this process creates. */
export function runPrefix(pid: number = process.pid): string {
  return `${NAME_PREFIX}${pid36(pid)}-`;
}

/** The creating pid encoded in a harness name, or undefined when the name is not ours. */
export function creatorPid(name: string): number | undefined {
  const m = /^ambit-t([0-9a-z]+)-[0-9a-z]+$/.exec(name);
  if (m === null) return undefined;
  const pid = parseInt(m[1], 36);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

let counter = 0;

/**
 * A fresh `ambit-t<pid36>-<n>`. Jest re-evaluates this module per test file in the same process,
 * so the counter can restart: names still in use as a netns, cgroup or pin directory are skipped.
 */
export function nextName(): string {
  const dirs = ['/run/netns', findCgroup2Mount(), '/sys/fs/bpf'];
  for (;;) {
    const name = `${runPrefix()}${(counter++).toString(36)}`;
    if (!dirs.some((dir) => fs.existsSync(`${dir}/${name}`))) return name;
  }
}

/** An interface name `<kind><pid36><n36>`, checked against IFNAMSIZ. */
export function ifName(kind: 'av' | 'af'): string {
  const name = `${kind}${pid36(process.pid)}${(counter++).toString(36)}`;
  if (name.length > MAX_IFNAME) {
    throw new RangeError(`interface name ${name} is longer than ${MAX_IFNAME} characters`);
  }
  return name;
}

/** True when a process with this pid exists (EPERM still means it exists). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
