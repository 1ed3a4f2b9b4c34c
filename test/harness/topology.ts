// A test mesh: "nodes" are network namespaces with a bridge br0 that pods plug into, wired
// together by a veth link with routes between their pod subnets (see addresses.ts for the plan).
//
//   pod a ── eth0 ═ av… ─┐                               ┌─ av… ═ eth0 ── pod c
//   pod b ── eth0 ═ av… ─┴─ br0 [node1 netns] af… ═ af… [node2 netns] br0 ─┘
//
// cgroups: <cgroup2>/<mesh name>/<node name>/<pod name>; the agent attaches cgroup-bpf programs at
// <mesh name>/<node name>. Node-level processes (the agent itself) run in <node name>-host, outside
// the subtree the agent captures.
import { ChildProcess } from 'child_process';
import * as path from 'path';
import { findCgroup2Mount } from '../../common/cgroup2';
import * as addr from './addresses';
import { createPinDir } from './bpffs';
import { createCgroup } from './cgroup';
import { CleanupStack, defer } from './cleanup';
import { ipIn } from './command';
import { ifName, nextName } from './names';
import { createNetns } from './netns';
import { createPod, Pod } from './pod';
import { execIn, ExecOptions, ExecResult, Placement, PodSpawnOptions, spawnIn } from './pod-exec';

/** Nodes a mesh can have: the link between nodes is one veth pair. */
export const MAX_MESH_NODES = 2;

export interface MeshOptions {
  /** 1 or 2. Default 1. */
  nodes?: number;
}

export interface MeshNode {
  /** node1, node2, ...; also its cgroup directory name. */
  readonly name: string;
  /** 1-based; the third octet of its pod subnet. */
  readonly index: number;
  /** Name of the node's network namespace. */
  readonly netns: string;
  readonly netnsPath: string;
  /** <mesh cgroup root>/<node name>: the agent's cgroup-bpf attach point. */
  readonly cgroupPath: string;
  /** <mesh cgroup root>/<node name>-host: where spawn()/exec() on the node put processes. */
  readonly hostCgroupPath: string;
  readonly gatewayV4: string;
  readonly gatewayV6: string;
  readonly pods: readonly Pod[];
  addPod(name: string): Promise<Pod>;
  /** Starts a process in the node netns (host cgroup); killed at mesh.destroy() if still running. */
  spawn(cmd: string, args?: readonly string[], opts?: PodSpawnOptions): ChildProcess;
  exec(cmd: string, args?: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

export interface Mesh {
  /** ambit-t<pid36>-<n>: names the cgroup root and the bpffs pin directory. */
  readonly name: string;
  /** <cgroup2 mount>/<mesh name>. */
  readonly cgroupRoot: string;
  /** /sys/fs/bpf/<mesh name>: pin maps and links here; removed with the mesh. */
  readonly pinDir: string;
  readonly nodes: readonly MeshNode[];
  readonly pods: readonly Pod[];
  /** The pod called `name`; throws when there is none. */
  pod(name: string): Pod;
  /** Kills every process started in the mesh, removes every netns, cgroup and pin. Idempotent. */
  destroy(): Promise<void>;
}

async function createNode(
  index: number,
  cgroupRoot: string,
  cleanup: CleanupStack,
  podNameTaken: (name: string) => boolean,
  assertLive: () => void,
): Promise<MeshNode> {
  // The node routes between its pods and the other node. Per-netns: the host is untouched.
  const forwarding = { 'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1 };
  const netns = await createNetns(nextName(), cleanup, forwarding);
  await ipIn(netns.name, ['link', 'add', 'br0', 'type', 'bridge']);
  await ipIn(netns.name, ['link', 'set', 'br0', 'up']);
  await ipIn(netns.name, ['addr', 'add', `${addr.gatewayV4(index)}/${addr.V4_PREFIX_LEN}`, 'dev', 'br0']);
  await ipIn(netns.name, ['addr', 'add', `${addr.gatewayV6(index)}/${addr.V6_PREFIX_LEN}`, 'dev', 'br0', 'nodad']);

  const name = `node${index}`;
  const cgroupPath = createCgroup(path.join(cgroupRoot, name), cleanup);
  const hostCgroupPath = createCgroup(path.join(cgroupRoot, `${name}-host`), cleanup);
  const host: Placement = { netnsPath: netns.path, cgroupPath: hostCgroupPath };
  const pods: Pod[] = [];
  const node: MeshNode = {
    name,
    index,
    netns: netns.name,
    netnsPath: netns.path,
    cgroupPath,
    hostCgroupPath,
    gatewayV4: addr.gatewayV4(index),
    gatewayV6: addr.gatewayV6(index),
    pods,
    async addPod(podName: string): Promise<Pod> {
      assertLive();
      if (podNameTaken(podName)) throw new Error(`the mesh already has a pod called "${podName}"`);
      const pod = await createPod(node, podName, pods.length, cleanup);
      pods.push(pod);
      return pod;
    },
    spawn: (cmd, args = [], opts = {}) => spawnIn(host, cleanup, cmd, args, opts),
    exec: (cmd, args = [], opts = {}) => execIn(host, cleanup, cmd, args, opts),
  };
  return node;
}

/** One veth pair between two node netns plus routes to each other's pod subnets (v4 and v6). */
async function linkNodes(a: MeshNode, b: MeshNode): Promise<void> {
  const ends = [
    { node: a, dev: ifName('af'), peer: b },
    { node: b, dev: ifName('af'), peer: a },
  ];
  await ipIn(a.netns, ['link', 'add', ends[0].dev, 'type', 'veth', 'peer', 'name', ends[1].dev, 'netns', b.netns]);
  for (const { node, dev, peer } of ends) {
    await ipIn(node.netns, ['link', 'set', dev, 'up']);
    await ipIn(node.netns, ['addr', 'add', `${addr.linkV4(node.index)}/${addr.V4_PREFIX_LEN}`, 'dev', dev]);
    await ipIn(node.netns, ['addr', 'add', `${addr.linkV6(node.index)}/${addr.V6_PREFIX_LEN}`, 'dev', dev, 'nodad']);
    await ipIn(node.netns, ['route', 'add', addr.podSubnetV4(peer.index), 'via', addr.linkV4(peer.index)]);
    await ipIn(node.netns, ['-6', 'route', 'add', addr.podSubnetV6(peer.index), 'via', addr.linkV6(peer.index)]);
  }
}

/**
 * Builds a mesh of `nodes` node netns. Everything is registered for cleanup as it is created; when
 * creation fails half-way, what exists is removed before the error is rethrown.
 */
export async function createMesh(opts: MeshOptions = {}): Promise<Mesh> {
  const count = opts.nodes ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_MESH_NODES) {
    throw new RangeError(`createMesh: nodes must be 1..${MAX_MESH_NODES}, got ${count}`);
  }
  const name = nextName();
  const cleanup = new CleanupStack();
  let destroyed = false;
  const handle = defer(`mesh ${name}`, () => cleanup.runAll(), {
    timeoutMs: 60_000,
    sync: () => {
      const missed = cleanup.runAllSync();
      if (missed.length > 0) throw new Error(`could not remove ${missed.join(', ')}`);
    },
  });
  const destroy = (): Promise<void> => {
    destroyed = true;
    return handle.run();
  };
  const assertLive = (): void => {
    if (destroyed) throw new Error(`mesh ${name} has been destroyed`);
  };

  const nodes: MeshNode[] = [];
  const allPods = (): Pod[] => nodes.flatMap((n) => n.pods);
  try {
    const cgroupRoot = createCgroup(path.join(findCgroup2Mount(), name), cleanup);
    const pinDir = await createPinDir(cleanup, name);
    const taken = (pod: string): boolean => allPods().some((p) => p.name === pod);
    for (let i = 1; i <= count; i++) nodes.push(await createNode(i, cgroupRoot, cleanup, taken, assertLive));
    if (count === 2) await linkNodes(nodes[0], nodes[1]);
    return {
      name,
      cgroupRoot,
      pinDir,
      nodes,
      get pods() {
        return allPods();
      },
      pod(podName: string): Pod {
        const pod = allPods().find((p) => p.name === podName);
        if (pod === undefined) throw new Error(`mesh ${name} has no pod called "${podName}"`);
        return pod;
      },
      destroy,
    };
  } catch (err) {
    await destroy().catch((cleanupErr: Error) => {
      (err as Error).message += ` (and cleaning up failed: ${cleanupErr.message})`;
    });
    throw err;
  }
}
