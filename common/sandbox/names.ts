// Names of everything a sandbox creates. Every name carries a family prefix (who: tests, the local
// runtime) and the creating process's pid, so a later run can tell a leftover of a dead process
// (pid gone) from a live one's resource (pid alive), and so nothing without such a name is touched.
//
//   <family><pid36>-<n36>   netns, cgroup roots, bpffs pin dirs   e.g. ambit-t1k3-4, ambit-l2bq-0
//   <kind><pid36><n36>      veth ends inside our own netns        e.g. av1k3b
import fs from 'node:fs';
import { findCgroup2Mount } from '../cgroup2';

/**
 * The name families in use. Every safety check accepts exactly these, so a new user of the sandbox
 * adds its family here rather than widening a pattern that could match someone else's names.
 *   ambit-t  privileged tests and `ambit demo` (test/harness)
 *   ambit-l  the local runtime (`ambit local up`)
 */
export const SANDBOX_FAMILIES = ['ambit-t', 'ambit-l'] as const;
export type SandboxFamily = (typeof SANDBOX_FAMILIES)[number];

/** Linux IFNAMSIZ is 16 including the NUL. */
export const MAX_IFNAME = 15;

const pid36 = (pid: number): string => pid.toString(36);

export function isSandboxFamily(s: string): s is SandboxFamily {
  return (SANDBOX_FAMILIES as readonly string[]).includes(s);
}

/** `<family><pid36>-`: the prefix of every resource process `pid` creates in `family`. */
export function runPrefixOf(family: SandboxFamily, pid: number): string {
  return `${family}${pid36(pid)}-`;
}

const NAME = /^(ambit-[a-z])([0-9a-z]+)-[0-9a-z]+$/;

/** Family and creating pid of a sandbox name, or undefined when the name is not one of ours. */
export function parseSandboxName(name: string): { family: SandboxFamily; pid: number } | undefined {
  const m = NAME.exec(name);
  if (m === null || !isSandboxFamily(m[1])) return undefined;
  const pid = parseInt(m[2], 36);
  return Number.isSafeInteger(pid) && pid > 0 ? { family: m[1], pid } : undefined;
}

/** True when `name` is a sandbox name (of any family); the guard every destructive call uses. */
export function isSandboxName(name: string): boolean {
  return parseSandboxName(name) !== undefined;
}

/** True when `prefix` is a family or a run prefix of one (what listing and sweeping accept). */
export function isSandboxPrefix(prefix: string): boolean {
  return SANDBOX_FAMILIES.some((f) => prefix === f || (prefix.startsWith(f) && /^[0-9a-z]+-$/.test(prefix.slice(f.length))));
}

/** Hands out the names of one process's resources in one family. */
export class SandboxNamer {
  private counter = 0;

  constructor(
    readonly family: SandboxFamily,
    readonly pid: number = process.pid,
  ) {}

  /** `<family><pid36>-`. */
  get prefix(): string {
    return runPrefixOf(this.family, this.pid);
  }

  /**
   * A fresh `<family><pid36>-<n>`. The counter can restart (jest re-evaluates modules per test
   * file in one process), so names still in use as a netns, cgroup or pin directory are skipped.
   */
  next(): string {
    const dirs = ['/run/netns', findCgroup2Mount(), '/sys/fs/bpf'];
    for (;;) {
      const name = `${this.prefix}${(this.counter++).toString(36)}`;
      if (!dirs.some((dir) => fs.existsSync(`${dir}/${name}`))) return name;
    }
  }

  /** An interface name `<kind><pid36><n36>`, checked against IFNAMSIZ. */
  ifName(kind: string): string {
    const name = `${kind}${pid36(this.pid)}${(this.counter++).toString(36)}`;
    if (name.length > MAX_IFNAME) {
      throw new RangeError(`interface name ${name} is longer than ${MAX_IFNAME} characters`);
    }
    return name;
  }
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
