// Names of everything the harness creates: the sandbox family `ambit-t` (common/sandbox/names.ts).
// Every name carries the creating process's pid so the privileged tier's sweeper can tell a
// leftover of a crashed run (pid gone) from a live run's resource (pid alive).
//
//   ambit-t<pid36>-<n36>   netns, cgroup roots, bpffs pin dirs   e.g. ambit-t1k3-4
//   av<pid36><n36>         node-side veth of a pod               e.g. av1k3b
//   af<pid36><n36>         node-to-node veth                     e.g. af1k3c
import { parseSandboxName, runPrefixOf, SandboxNamer } from '../../common/sandbox';

export const NAME_PREFIX = 'ambit-t';

/** Names of this process's harness resources (one namer per module instance, as before). */
export const harnessNamer = new SandboxNamer(NAME_PREFIX);

/** `ambit-t<pid36>-`: the prefix of every resource process `pid` creates through the harness. */
export function runPrefix(pid: number = process.pid): string {
  return runPrefixOf(NAME_PREFIX, pid);
}

/** The creating pid encoded in a harness name, or undefined when the name is not a harness one. */
export function creatorPid(name: string): number | undefined {
  const owner = parseSandboxName(name);
  return owner?.family === NAME_PREFIX ? owner.pid : undefined;
}

/** A fresh `ambit-t<pid36>-<n>` not in use as a netns, cgroup or pin directory. */
export function nextName(): string {
  return harnessNamer.next();
}
