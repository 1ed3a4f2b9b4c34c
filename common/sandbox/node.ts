// A node sandbox: a network namespace with a bridge br0 that its pods plug into (the gateway of
// its pod subnet), forwarding on (per netns: the host is untouched), and two cgroups: <node> for
// its pods (the agent's cgroup-bpf attach point) and <node>-host for node-level processes (the
// agent itself), outside the subtree the agent captures.
import path from 'node:path';
import * as addr from './addresses';
import { createCgroup } from './cgroup';
import { CleanupStack } from './cleanup';
import { ipIn } from './command';
import { SandboxNamer } from './names';
import { createNetns } from './netns';
import type { SandboxPod } from './pod';
import type { Placement } from './spawn';

export interface SandboxNode {
  /** node1, worker-a, ...; also its cgroup directory name. */
  readonly name: string;
  /** 1-based; the third octet of its pod subnet. */
  readonly index: number;
  /** Name of the node's network namespace. */
  readonly netns: string;
  readonly netnsPath: string;
  /** <cluster cgroup root>/<node name>: the agent's cgroup-bpf attach point. */
  readonly cgroupPath: string;
  /** <cluster cgroup root>/<node name>-host: where node-level processes run. */
  readonly hostCgroupPath: string;
  /** Node netns + host cgroup: pass to spawnIn() for a node-level process. */
  readonly host: Placement;
  readonly gatewayV4: string;
  readonly gatewayV6: string;
  /** Pods on this node, in creation order. */
  readonly pods: readonly SandboxPod[];
  /** Node-level processes register their kill here; it runs before the node's cgroups go. */
  readonly cleanup: CleanupStack;
}

/** What a node knows about itself beyond the public fields. */
export interface NodeState extends SandboxNode {
  readonly pods: SandboxPod[];
}

/** DNS-1123 subdomain-ish, and not `<x>-host`, which would collide with node x's host cgroup. */
export const NODE_NAME = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

export function checkNodeName(name: string): void {
  if (!NODE_NAME.test(name) || name.endsWith('-host')) {
    throw new Error(`node name "${name}" must be a DNS name (a-z, 0-9, '-', '.'; at most 63) not ending in "-host"`);
  }
}

/** Builds node `name` with address index `index`; every resource registers on `cleanup`. */
export async function buildNode(
  name: string,
  index: number,
  cgroupRoot: string,
  namer: SandboxNamer,
  cleanup: CleanupStack,
): Promise<NodeState> {
  checkNodeName(name);
  // The node routes between its pods and the other nodes.
  const forwarding = { 'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1 };
  const netns = await createNetns(namer.next(), cleanup, forwarding);
  await ipIn(netns.name, ['link', 'add', 'br0', 'type', 'bridge']);
  await ipIn(netns.name, ['link', 'set', 'br0', 'up']);
  await ipIn(netns.name, ['addr', 'add', `${addr.gatewayV4(index)}/${addr.V4_PREFIX_LEN}`, 'dev', 'br0']);
  await ipIn(netns.name, ['addr', 'add', `${addr.gatewayV6(index)}/${addr.V6_PREFIX_LEN}`, 'dev', 'br0', 'nodad']);

  const cgroupPath = createCgroup(path.join(cgroupRoot, name), cleanup);
  const hostCgroupPath = createCgroup(path.join(cgroupRoot, `${name}-host`), cleanup);
  const processes = new CleanupStack();
  cleanup.defer(`node ${name} processes`, () => processes.runAll(), {
    timeoutMs: 60_000,
    sync: () => void processes.runAllSync(),
  });
  return {
    name,
    index,
    netns: netns.name,
    netnsPath: netns.path,
    cgroupPath,
    hostCgroupPath,
    host: { netnsPath: netns.path, cgroupPath: hostCgroupPath },
    gatewayV4: addr.gatewayV4(index),
    gatewayV6: addr.gatewayV6(index),
    pods: [],
    cleanup: processes,
  };
}
