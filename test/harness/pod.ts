// A test pod: a sandbox pod (common/sandbox/pod.ts: netns, veth to the node's br0, dual-stack
// addresses, its own cgroup) with spawn/exec helpers bound to it.
import { ChildProcess } from 'node:child_process';
import type { SandboxPod } from '../../common/sandbox';
import { execIn, ExecOptions, ExecResult, Placement, PodSpawnOptions, spawnIn } from './pod-exec';
import type { MeshNode } from './topology';

/** A sandbox pod as tests see it: its node is a MeshNode, and processes are started through it. */
export interface Pod extends Omit<SandboxPod, 'node' | 'cleanup'> {
  readonly node: MeshNode;
  /** Starts a process in the pod's netns and cgroup; killed at mesh.destroy() if still running. */
  spawn(cmd: string, args?: readonly string[], opts?: PodSpawnOptions): ChildProcess;
  /** Runs a process in the pod to completion; rejects (after killing it) on timeout. */
  exec(cmd: string, args?: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** spawn() of the current node binary (process.execPath) with `script`. */
  spawnNode(script: string, args?: readonly string[], opts?: PodSpawnOptions): ChildProcess;
  /** exec() of the current node binary with `script`. */
  execNode(script: string, args?: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

/** Names a test pod can have: a DNS label, as in Kubernetes. */
export const POD_NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** The harness view of sandbox pod `sp` on harness node `node`. */
export function toPod(sp: SandboxPod, node: MeshNode): Pod {
  const where: Placement = { netnsPath: sp.netnsPath, cgroupPath: sp.cgroupPath };
  return {
    name: sp.name,
    node,
    index: sp.index,
    netnsName: sp.netnsName,
    netnsPath: sp.netnsPath,
    cgroupPath: sp.cgroupPath,
    ipv4: sp.ipv4,
    ipv6: sp.ipv6,
    hostVeth: sp.hostVeth,
    spawn: (cmd, args = [], opts = {}) => spawnIn(where, sp.cleanup, cmd, args, opts),
    exec: (cmd, args = [], opts = {}) => execIn(where, sp.cleanup, cmd, args, opts),
    spawnNode: (script, args = [], opts = {}) => spawnIn(where, sp.cleanup, process.execPath, [script, ...args], opts),
    execNode: (script, args = [], opts = {}) => execIn(where, sp.cleanup, process.execPath, [script, ...args], opts),
  };
}
