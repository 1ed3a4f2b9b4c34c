// A test mesh: a sandbox cluster (common/sandbox/cluster.ts) of one or two nodes joined by one veth,
// in the test family ambit-t, registered on the process-wide cleanup stack.
//
//   pod a ── eth0 ═ av… ─┐                               ┌─ av… ═ eth0 ── pod c
//   pod b ── eth0 ═ av… ─┴─ br0 [node1 netns] af… ═ af… [node2 netns] br0 ─┘
//
// cgroups: <cgroup2>/<mesh name>/<node name>/<pod name>; the agent attaches cgroup-bpf programs at
// <mesh name>/<node name>. Node-level processes (the agent itself) run in <node name>-host, outside
// the subtree the agent captures.
import { ChildProcess } from 'node:child_process';
import { SandboxCluster, SandboxNode } from '../../common/sandbox';
import { defer } from '../../common/sandbox';
import { harnessNamer } from './names';
import { POD_NAME, Pod, toPod } from './pod';
import { execIn, ExecOptions, ExecResult, PodSpawnOptions, spawnIn } from './pod-exec';

/** Nodes a mesh can have: the link between nodes is one veth pair. */
export const MAX_MESH_NODES = 2;

export interface MeshOptions {
  /** 1 or 2. Default 1. */
  nodes?: number;
}

/** A sandbox node as tests see it: its pods are harness pods, with spawn/exec helpers. */
export interface MeshNode extends Omit<SandboxNode, 'host' | 'pods' | 'cleanup'> {
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

function toMeshNode(cluster: SandboxCluster, sn: SandboxNode, allPods: () => Pod[], assertLive: () => void): MeshNode {
  const pods: Pod[] = [];
  const node: MeshNode = {
    name: sn.name,
    index: sn.index,
    netns: sn.netns,
    netnsPath: sn.netnsPath,
    cgroupPath: sn.cgroupPath,
    hostCgroupPath: sn.hostCgroupPath,
    gatewayV4: sn.gatewayV4,
    gatewayV6: sn.gatewayV6,
    pods,
    async addPod(podName: string): Promise<Pod> {
      assertLive();
      if (allPods().some((p) => p.name === podName)) throw new Error(`the mesh already has a pod called "${podName}"`);
      if (!POD_NAME.test(podName)) {
        throw new Error(`pod name "${podName}" must be a DNS label (a-z, 0-9, '-'; at most 40 characters)`);
      }
      // A half-built pod stays registered and goes with mesh.destroy() (no rollback here).
      const pod = toPod(await cluster.addPod(sn, podName, { rollback: false }), node);
      pods.push(pod);
      return pod;
    },
    spawn: (cmd, args = [], opts = {}) => spawnIn(sn.host, sn.cleanup, cmd, args, opts),
    exec: (cmd, args = [], opts = {}) => execIn(sn.host, sn.cleanup, cmd, args, opts),
  };
  return node;
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
  const cluster = await SandboxCluster.create({ namer: harnessNamer, interconnect: 'veth', pinDir: true });
  const name = cluster.name;
  let destroyed = false;
  const handle = defer(`mesh ${name}`, () => cluster.destroy(), {
    timeoutMs: 60_000,
    sync: () => {
      const missed = cluster.destroySync();
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
    for (let i = 1; i <= count; i++) nodes.push(toMeshNode(cluster, await cluster.addNode(`node${i}`), allPods, assertLive));
    return {
      name,
      cgroupRoot: cluster.cgroupRoot,
      pinDir: cluster.pinDir as string,
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
