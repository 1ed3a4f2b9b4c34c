// A pod: its own netns (lo + eth0, one end of a veth whose other end is a port of the node's br0),
// dual-stack addresses with default routes via the node, and its own cgroup under the node's.
import { ChildProcess } from 'child_process';
import * as path from 'path';
import * as addr from './addresses';
import { createCgroup } from './cgroup';
import { CleanupStack } from './cleanup';
import { ipIn } from './command';
import { ifName, nextName } from './names';
import { createNetns } from './netns';
import { execIn, ExecOptions, ExecResult, Placement, PodSpawnOptions, spawnIn } from './pod-exec';
import type { MeshNode } from './topology';

export interface Pod extends Placement {
  /** Name given to addPod(); unique in the mesh; also the name of its cgroup directory. */
  readonly name: string;
  readonly node: MeshNode;
  /** 0-based position on its node; the address is .(10 + index). */
  readonly index: number;
  readonly netnsName: string;
  /** /run/netns/<netnsName>. */
  readonly netnsPath: string;
  /** <harness cgroup root>/<node name>/<pod name>. */
  readonly cgroupPath: string;
  readonly ipv4: string;
  readonly ipv6: string;
  /** The node-side end of the pod's veth (a br0 port in the node netns). */
  readonly hostVeth: string;
  /** Starts a process in the pod's netns and cgroup; killed at mesh.destroy() if still running. */
  spawn(cmd: string, args?: readonly string[], opts?: PodSpawnOptions): ChildProcess;
  /** Runs a process in the pod to completion; rejects (after killing it) on timeout. */
  exec(cmd: string, args?: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** spawn() of the current node binary (process.execPath) with `script`. */
  spawnNode(script: string, args?: readonly string[], opts?: PodSpawnOptions): ChildProcess;
  /** exec() of the current node binary with `script`. */
  execNode(script: string, args?: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

const POD_NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** Builds pod `name` as pod number `index` of `node`. Every resource registers on `cleanup`. */
export async function createPod(node: MeshNode, name: string, index: number, cleanup: CleanupStack): Promise<Pod> {
  if (!POD_NAME.test(name)) {
    throw new Error(`pod name "${name}" must be a DNS label (a-z, 0-9, '-'; at most 40 characters)`);
  }
  const ipv4 = addr.podV4(node.index, index);
  const ipv6 = addr.podV6(node.index, index);
  const netns = await createNetns(nextName(), cleanup);
  const ns = netns.name;

  // Create the pair in the node netns with the pod end moved straight into the pod netns: neither
  // end ever appears in the host's netns. Deleting the pod netns destroys the pair.
  const hostVeth = ifName('av');
  await ipIn(node.netns, ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await ipIn(node.netns, ['link', 'set', hostVeth, 'master', 'br0', 'up']);
  await ipIn(ns, ['link', 'set', 'eth0', 'up']);
  await ipIn(ns, ['addr', 'add', `${ipv4}/${addr.V4_PREFIX_LEN}`, 'dev', 'eth0']);
  // nodad: usable at once instead of "tentative" for a second of duplicate address detection.
  await ipIn(ns, ['addr', 'add', `${ipv6}/${addr.V6_PREFIX_LEN}`, 'dev', 'eth0', 'nodad']);
  await ipIn(ns, ['route', 'add', 'default', 'via', addr.gatewayV4(node.index), 'dev', 'eth0']);
  await ipIn(ns, ['-6', 'route', 'add', 'default', 'via', addr.gatewayV6(node.index), 'dev', 'eth0']);

  const cgroupPath = createCgroup(path.join(node.cgroupPath, name), cleanup);

  const where: Placement = { netnsPath: netns.path, cgroupPath };
  return {
    name,
    node,
    index,
    netnsName: ns,
    netnsPath: netns.path,
    cgroupPath,
    ipv4,
    ipv6,
    hostVeth,
    spawn: (cmd, args = [], opts = {}) => spawnIn(where, cleanup, cmd, args, opts),
    exec: (cmd, args = [], opts = {}) => execIn(where, cleanup, cmd, args, opts),
    spawnNode: (script, args = [], opts = {}) => spawnIn(where, cleanup, process.execPath, [script, ...args], opts),
    execNode: (script, args = [], opts = {}) => execIn(where, cleanup, process.execPath, [script, ...args], opts),
  };
}
