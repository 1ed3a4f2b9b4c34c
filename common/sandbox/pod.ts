// A pod sandbox: its own netns (lo + eth0, one end of a veth whose other end is a port of the node's
// br0), dual-stack addresses with default routes via the node, and its own cgroup under the node's.
// Every resource registers on the pod's own cleanup stack, so one pod can be removed on its own
// (the local runtime's hot reload) and the cluster still removes whatever is left at destroy().
import path from 'node:path';
import * as addr from './addresses';
import { createCgroup } from './cgroup';
import { CleanupStack } from './cleanup';
import { ipIn } from './command';
import { SandboxNamer } from './names';
import { createNetns } from './netns';
import type { SandboxNode } from './node';
import type { Placement } from './spawn';

export interface SandboxPod extends Placement {
  /** Unique in the cluster; also the name of its cgroup directory. */
  readonly name: string;
  readonly node: SandboxNode;
  /** Address slot on its node (0-based); the address is .(10 + index). */
  readonly index: number;
  readonly netnsName: string;
  /** /run/netns/<netnsName>. */
  readonly netnsPath: string;
  /** <cluster cgroup root>/<node name>/<pod name>. */
  readonly cgroupPath: string;
  readonly ipv4: string;
  readonly ipv6: string;
  /** The node-side end of the pod's veth (a br0 port in the node netns). */
  readonly hostVeth: string;
  /** Processes started in this pod register their kill here; it runs when the pod goes. */
  readonly cleanup: CleanupStack;
}

/** A file-name-safe label: a cgroup directory name that cannot be "." or "..". */
export const POD_SANDBOX_NAME = /^[a-z0-9]([a-z0-9._-]{0,198}[a-z0-9])?$/;

/**
 * Builds pod `name` in address slot `index` of `node`. Resources register on `cleanup` (the pod's
 * own stack) the moment they exist; on failure the caller decides whether to run it at once.
 */
export async function buildPod(
  node: SandboxNode,
  name: string,
  index: number,
  namer: SandboxNamer,
  cleanup: CleanupStack,
): Promise<SandboxPod> {
  if (!POD_SANDBOX_NAME.test(name)) {
    throw new Error(`pod sandbox name "${name}" must be lower-case letters, digits, '.', '_' or '-' (at most 200)`);
  }
  const ipv4 = addr.podV4(node.index, index);
  const ipv6 = addr.podV6(node.index, index);
  const netns = await createNetns(namer.next(), cleanup);
  const ns = netns.name;

  // Create the pair in the node netns with the pod end moved straight into the pod netns: neither
  // end ever appears in the host's netns. Deleting the pod netns destroys the pair.
  const hostVeth = namer.ifName('av');
  await ipIn(node.netns, ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await ipIn(node.netns, ['link', 'set', hostVeth, 'master', 'br0', 'up']);
  await ipIn(ns, ['link', 'set', 'eth0', 'up']);
  await ipIn(ns, ['addr', 'add', `${ipv4}/${addr.V4_PREFIX_LEN}`, 'dev', 'eth0']);
  // nodad: usable at once instead of "tentative" for a second of duplicate address detection.
  await ipIn(ns, ['addr', 'add', `${ipv6}/${addr.V6_PREFIX_LEN}`, 'dev', 'eth0', 'nodad']);
  await ipIn(ns, ['route', 'add', 'default', 'via', addr.gatewayV4(node.index), 'dev', 'eth0']);
  await ipIn(ns, ['-6', 'route', 'add', 'default', 'via', addr.gatewayV6(node.index), 'dev', 'eth0']);

  const cgroupPath = createCgroup(path.join(node.cgroupPath, name), cleanup);
  return { name, node, index, netnsName: ns, netnsPath: netns.path, cgroupPath, ipv4, ipv6, hostVeth, cleanup };
}
