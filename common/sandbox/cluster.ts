// A sandbox cluster: nodes (netns + bridge + cgroups), pods on them (netns + veth + cgroup), and
// the wiring between nodes (interconnect.ts). Shared by the privileged tests (test/harness) and the
// local runtime (`ambit local up`); the two differ only in their name family and interconnect.
//
// cgroups: <cgroup2>/<cluster name>/<node name>/<pod name>, plus <cluster name>/<node name>-host.
// Everything created is registered for removal the moment it exists; destroy() removes it all,
// last-in-first-out, and is idempotent.
import path from 'node:path';
import { findCgroup2Mount } from '../cgroup2';
import { MAX_NODE_INDEX, MAX_PODS_PER_NODE } from './addresses';
import { createPinDir } from './bpffs';
import { createCgroup } from './cgroup';
import { CleanupHandle, CleanupStack } from './cleanup';
import { Fabric, Interconnect, linkPair } from './interconnect';
import { SandboxNamer } from './names';
import { buildNode, NodeState, SandboxNode } from './node';
import { buildPod, SandboxPod } from './pod';

export interface ClusterOptions {
  /** Family and pid every name carries. */
  namer: SandboxNamer;
  /** 'veth' (at most two nodes, no extra netns) or 'fabric' (any number). Default 'veth'. */
  interconnect?: Interconnect;
  /** Create /sys/fs/bpf/<cluster name> for pinned maps and links. Default false. */
  pinDir?: boolean;
}

export interface AddPodOptions {
  /**
   * Remove what was built when building fails half-way (default true). False leaves it
   * registered for removal at destroy(), which is what the test harness documents.
   */
  rollback?: boolean;
}

export class SandboxCluster {
  private readonly nodeList: NodeState[] = [];
  private readonly podHandles = new Map<SandboxPod, CleanupHandle>();
  /** Slots and names of pods being built, claimed before the first await. */
  private readonly building = new Map<string, { node: NodeState; index: number }>();
  private fabric: Fabric | undefined;
  private destroyed = false;
  private destroying: Promise<void> | undefined;
  /** Serializes addNode(): wiring a node reads and extends the set of nodes. */
  private nodeQueue: Promise<unknown> = Promise.resolve();

  private constructor(
    /** <family><pid36>-<n>: names the cgroup root and the pin directory. */
    readonly name: string,
    /** <cgroup2 mount>/<cluster name>. */
    readonly cgroupRoot: string,
    /** /sys/fs/bpf/<cluster name> when asked for. */
    readonly pinDir: string | undefined,
    private readonly namer: SandboxNamer,
    private readonly interconnect: Interconnect,
    private readonly cleanup: CleanupStack,
  ) {}

  /** Creates the cluster's cgroup root (and pin dir); removes what it made if that fails. */
  static async create(opts: ClusterOptions): Promise<SandboxCluster> {
    const cleanup = new CleanupStack();
    const name = opts.namer.next();
    try {
      const cgroupRoot = createCgroup(path.join(findCgroup2Mount(), name), cleanup);
      const pinDir = opts.pinDir ? await createPinDir(cleanup, name) : undefined;
      return new SandboxCluster(name, cgroupRoot, pinDir, opts.namer, opts.interconnect ?? 'veth', cleanup);
    } catch (err) {
      await cleanup.runAll().catch((e: Error) => {
        (err as Error).message += ` (and cleaning up failed: ${e.message})`;
      });
      throw err;
    }
  }

  get nodes(): readonly SandboxNode[] {
    return this.nodeList;
  }

  get pods(): readonly SandboxPod[] {
    return this.nodeList.flatMap((n) => n.pods);
  }

  /** The fabric netns name ('fabric' interconnect, once a node exists). */
  get fabricNetns(): string | undefined {
    return this.fabric?.netns.name;
  }

  node(name: string): SandboxNode | undefined {
    return this.nodeList.find((n) => n.name === name);
  }

  private assertLive(): void {
    if (this.destroyed) throw new Error(`cluster ${this.name} has been destroyed`);
  }

  /** Adds node `name` with the next address index and wires it to the nodes already there. */
  addNode(name: string): Promise<SandboxNode> {
    const next = this.nodeQueue.then(() => this.addNodeNow(name));
    this.nodeQueue = next.catch(() => {});
    return next;
  }

  private async addNodeNow(name: string): Promise<SandboxNode> {
    this.assertLive();
    if (this.node(name) !== undefined) throw new Error(`cluster ${this.name} already has a node called "${name}"`);
    const index = this.nodeList.length + 1;
    if (index > MAX_NODE_INDEX) throw new RangeError(`a cluster has at most ${MAX_NODE_INDEX} nodes`);
    if (this.interconnect === 'veth' && index > 2) {
      throw new RangeError(`the veth interconnect links exactly two nodes; use 'fabric' for more`);
    }
    const node = await buildNode(name, index, this.cgroupRoot, this.namer, this.cleanup);
    const others = [...this.nodeList];
    if (this.interconnect === 'fabric') {
      this.fabric ??= await Fabric.create(this.namer, this.cleanup);
      await this.fabric.attach(node, others, this.namer);
    } else if (others.length === 1) {
      await linkPair(others[0], node, this.namer);
    }
    this.nodeList.push(node);
    return node;
  }

  /** Lowest free address slot on `node`. */
  private freeSlot(node: NodeState): number {
    const used = new Set(node.pods.map((p) => p.index));
    for (const b of this.building.values()) if (b.node === node) used.add(b.index);
    for (let i = 0; i < MAX_PODS_PER_NODE; i++) if (!used.has(i)) return i;
    throw new RangeError(`node ${node.name} already has ${MAX_PODS_PER_NODE} pods`);
  }

  /** Builds pod `name` on `node` in the lowest free address slot. */
  async addPod(node: SandboxNode, name: string, opts: AddPodOptions = {}): Promise<SandboxPod> {
    this.assertLive();
    const state = this.nodeList.find((n) => n === node);
    if (state === undefined) throw new Error(`node ${node.name} is not a node of cluster ${this.name}`);
    if (this.pods.some((p) => p.name === name) || this.building.has(name)) {
      throw new Error(`cluster ${this.name} already has a pod called "${name}"`);
    }
    // Claim name and slot before the first await so concurrent addPod() calls get different ones.
    const index = this.freeSlot(state);
    this.building.set(name, { node: state, index });
    const podCleanup = new CleanupStack();
    const handle = this.cleanup.defer(`pod ${name}`, () => podCleanup.runAll(), {
      timeoutMs: 60_000,
      sync: () => {
        const missed = podCleanup.runAllSync();
        if (missed.length > 0) throw new Error(`could not remove ${missed.join(', ')}`);
      },
    });
    try {
      const pod = await buildPod(node, name, index, this.namer, podCleanup);
      state.pods.push(pod);
      this.podHandles.set(pod, handle);
      return pod;
    } catch (err) {
      if (opts.rollback ?? true) {
        await handle.run().catch((e: Error) => {
          (err as Error).message += ` (and removing the half-built pod failed: ${e.message})`;
        });
      }
      throw err;
    } finally {
      this.building.delete(name);
    }
  }

  /** Kills the pod's processes and removes its cgroup and netns. Idempotent. */
  async removePod(pod: SandboxPod): Promise<void> {
    const handle = this.podHandles.get(pod);
    if (handle === undefined) return;
    try {
      await handle.run();
    } finally {
      this.podHandles.delete(pod);
      const state = this.nodeList.find((n) => n === pod.node);
      if (state !== undefined && state.pods.includes(pod)) state.pods.splice(state.pods.indexOf(pod), 1);
    }
  }

  /** Kills every process started in the cluster, removes every netns, cgroup and pin. Idempotent. */
  destroy(): Promise<void> {
    this.destroyed = true;
    this.destroying ??= this.cleanup.runAll();
    return this.destroying;
  }

  /** Blocking best effort for the process 'exit' path; returns what it could not remove. */
  destroySync(): string[] {
    this.destroyed = true;
    return this.cleanup.runAllSync();
  }
}
