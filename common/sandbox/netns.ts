// Named network namespaces (`ip netns`), so each has a file /run/netns/NAME that nsenter, probes and
// the agent (enrollment hands it a netns fd) can open. Creating and deleting these names is the only
// thing the sandbox ever does in the host's own netns; only sandbox names are touched.
import fs from 'node:fs';
import { CleanupStack } from './cleanup';
import { ipIn, run, runSync } from './command';
import { NotOursError, SandboxCommandError } from './errors';
import { isSandboxName } from './names';

export const NETNS_DIR = '/run/netns';

export interface Netns {
  readonly name: string;
  /** /run/netns/NAME: open it to get a netns fd, or pass it to nsenter --net=. */
  readonly path: string;
}

export const netnsPath = (name: string): string => `${NETNS_DIR}/${name}`;

function assertOurs(name: string): void {
  if (!isSandboxName(name)) throw new NotOursError(`network namespace ${name}`, 'not a sandbox name');
}

/**
 * Sysctls of every sandbox netns. IPv6 duplicate address detection keeps each new link-local
 * address "tentative" for a second; routers then solicit neighbours without a usable source and
 * the first IPv6 connection through a fresh cluster stalls ~2 s. Our addresses are unique by design.
 */
const NETNS_DEFAULTS = { 'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0 };

/**
 * Creates netns NAME with `lo` up and `sysctls` applied, and registers its deletion on `cleanup`.
 * Interfaces inside die with the namespace (a veth pair goes when either end's netns goes).
 */
export async function createNetns(
  name: string,
  cleanup: CleanupStack,
  sysctls: Record<string, string | number> = {},
): Promise<Netns> {
  assertOurs(name);
  await run('ip', ['netns', 'add', name]);
  cleanup.defer(`netns ${name}`, () => deleteNetns(name), { sync: () => deleteNetnsSync(name) });
  await ipIn(name, ['link', 'set', 'lo', 'up']);
  await setNetnsSysctls(name, { ...NETNS_DEFAULTS, ...sysctls });
  return { name, path: netnsPath(name) };
}

/** `ip netns del NAME`; a namespace that is already gone is not an error. */
export async function deleteNetns(name: string): Promise<void> {
  assertOurs(name);
  try {
    await run('ip', ['netns', 'del', name]);
  } catch (err) {
    if (fs.existsSync(netnsPath(name)) || !(err instanceof SandboxCommandError)) throw err;
  }
}

export function deleteNetnsSync(name: string): void {
  assertOurs(name);
  if (fs.existsSync(netnsPath(name))) runSync('ip', ['netns', 'del', name]);
}

/** Runs a host binary inside the netns (`ip netns exec`), resolving with stdout. */
export function execInNetns(name: string, cmd: string, args: readonly string[]): Promise<string> {
  return run('ip', ['netns', 'exec', name, cmd, ...args]);
}

/**
 * Sets sysctls inside the netns. net.* sysctls such as ip_forward are per network namespace:
 * this never changes the host's values.
 */
export async function setNetnsSysctls(name: string, values: Record<string, string | number>): Promise<void> {
  assertOurs(name);
  const assignments = Object.entries(values).map(([k, v]) => {
    if (!k.startsWith('net.')) throw new Error(`sysctl ${k} is not per-netns; refusing to set it`);
    return `${k}=${v}`;
  });
  await execInNetns(name, 'sysctl', ['-q', '-w', ...assignments]);
}

/** Names of all named netns (what `ip netns list` prints, without the "(id: N)" suffix). */
export function listNetns(): string[] {
  try {
    return fs.readdirSync(NETNS_DIR).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Identity of a netns file (nsfs dev + inode): equal for two paths naming the same netns. */
export function netnsIdentity(path: string): { dev: bigint; ino: bigint } {
  const st = fs.statSync(path, { bigint: true });
  return { dev: st.dev, ino: st.ino };
}
