// One local pod, kubelet-style: its sandbox (netns + cgroup on its node, common/sandbox), one
// ContainerRunner per container, and its status (phase, conditions, IPs) derived from them.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/log';
import type { SandboxCluster, SandboxNode, SandboxPod } from '../../common/sandbox';
import type { Container, Pod } from '../../control-plane/kube/objects';
import { ContainerRunner, type ContainerLaunch } from './container-runner';
import { LocalError, LocalErrorCodes } from './errors';
import { podPhase, podReady, type ContainerStatusView, type PodPhase, type RestartPolicy } from './pod-status';
import { containerEnv, expandRefs, type ServiceForEnv } from './service-env';

/** Seconds between SIGTERM and SIGKILL when the pod does not say (Kubernetes: 30; a demo wants less). */
export const DEFAULT_GRACE_SECONDS = 5;

export interface PodRunnerOptions {
  pod: Pod;
  node: SandboxNode;
  cluster: SandboxCluster;
  /** The YAML directory: containers run there (or in workingDir relative to it). */
  workDir: string;
  logDir: string;
  nodeNetnsFd: number;
  /**
   * The CNI's part for ambient pods: called with the built sandbox before any container starts
   * (a rejection fails the pod — no byte escapes capture), and after the containers stopped.
   */
  mesh?: { enroll(pod: { uid: string; sandbox: SandboxPod }): Promise<void>; unenroll(uid: string): Promise<void> };
  /** Environment the platform gives every container of this pod (a waypoint's control plane and credential); the container's own env wins. */
  platformEnv?: Record<string, string>;
  /** The Services of the pod's namespace, with ClusterIPs, at the moment a container starts. */
  services: (namespace: string) => ServiceForEnv[];
  onChange: () => void;
  logger: Logger;
}

export interface PodRuntimeStatus {
  uid: string;
  namespace: string;
  name: string;
  node: string;
  hostIP: string;
  podIPs: string[];
  phase: PodPhase;
  ready: boolean;
  startTime: string;
  netns?: string;
  cgroupPath?: string;
  message?: string;
  containers: Array<ContainerStatusView & { probe?: string }>;
}

/** The sandbox name of a pod: its cgroup directory. Namespaces have no '_', so this is unambiguous. */
export const sandboxName = (namespace: string, name: string): string => `${namespace}_${name}`;

/**
 * The executable and leading arguments for a command (there is no image): `node` is this runtime's
 * own Node binary, `ambit` this very Ambit's CLI run by it (same loader), anything else as is.
 */
export function resolveCommand(cmd: string): { file: string; args: string[] } {
  if (cmd === 'node') return { file: process.execPath, args: [] };
  if (cmd === 'ambit') {
    const ext = path.extname(__filename);
    return { file: process.execPath, args: [...process.execArgv, path.join(__dirname, '..', `ambit${ext}`)] };
  }
  return { file: cmd, args: [] };
}

export class PodRunner {
  readonly uid = randomUUID();
  readonly startTime = new Date().toISOString();
  private sandbox: SandboxPod | undefined;
  private containers: ContainerRunner[] = [];
  private failure: string | undefined;
  /** Captured by its node's agent (acked). */
  enrolled = false;
  /** The agent link; set later when a running pod is enrolled in place (enrollRunning). */
  private mesh: PodRunnerOptions['mesh'];

  constructor(private readonly opts: PodRunnerOptions) {
    this.mesh = opts.mesh;
  }

  get namespace(): string {
    return this.opts.pod.metadata.namespace ?? 'default';
  }

  get name(): string {
    return this.opts.pod.metadata.name;
  }

  get nodeName(): string {
    return this.opts.node.name;
  }

  get spec(): Pod {
    return this.opts.pod;
  }

  get sandboxPod(): SandboxPod | undefined {
    return this.sandbox;
  }

  get runners(): readonly ContainerRunner[] {
    return this.containers;
  }

  /** Builds the sandbox and starts every container. Rejects when the sandbox cannot be built. */
  async start(): Promise<void> {
    const { cluster, node, pod, logger } = this.opts;
    try {
      this.sandbox = await cluster.addPod(node, sandboxName(this.namespace, this.name));
    } catch (err) {
      this.failure = `sandbox: ${(err as Error).message}`;
      this.opts.onChange();
      throw err;
    }
    const sb = this.sandbox;
    if (this.mesh) {
      try {
        await this.mesh.enroll({ uid: this.uid, sandbox: sb });
        this.enrolled = true;
      } catch (err) {
        this.failure = `enrollment: ${(err as Error).message}`;
        this.opts.onChange();
        throw err;
      }
    }
    const restartPolicy: RestartPolicy = pod.spec?.restartPolicy ?? 'Always';
    this.containers = (pod.spec?.containers ?? []).map(
      (c) =>
        new ContainerRunner({
          spec: c,
          pod: sb,
          restartPolicy,
          launch: () => this.launch(c, sb),
          probeContext: { nodeNetnsFd: this.opts.nodeNetnsFd, podIP: sb.ipv4, pod: sb },
          onChange: this.opts.onChange,
          logger: logger.child({ pod: `${this.namespace}/${this.name}`, container: c.name }),
        }),
    );
    for (const c of this.containers) c.start();
    this.opts.onChange();
  }

  private launch(c: Container, sb: SandboxPod): ContainerLaunch {
    const where = `container ${c.name} of pod ${this.namespace}/${this.name}`;
    const command = c.command ?? [];
    if (command.length === 0) {
      throw new LocalError(LocalErrorCodes.CONTAINER_START, `${where} has no command; ambit local runs commands, not images`);
    }
    const env = containerEnv({
      pod: { name: this.name, namespace: this.namespace, podIP: sb.ipv4, nodeName: this.nodeName },
      services: this.opts.services(this.namespace),
      enableServiceLinks: (this.opts.pod.spec as { enableServiceLinks?: boolean } | undefined)?.enableServiceLinks,
      env: c.env,
    });
    const cwd = path.resolve(this.opts.workDir, c.workingDir ?? '.');
    if (!fs.existsSync(cwd)) throw new LocalError(LocalErrorCodes.CONTAINER_START, `${where}: workingDir ${cwd} does not exist`);
    const [cmd, ...rest] = [...command, ...(c.args ?? [])].map((a) => expandRefs(a, env));
    const resolved = resolveCommand(cmd);
    return {
      file: resolved.file,
      args: [...resolved.args, ...rest],
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOSTNAME: this.name, ...this.opts.platformEnv, ...env },
      logFile: path.join(this.opts.logDir, `${this.namespace}_${this.name}_${c.name}.log`),
    };
  }

  status(): PodRuntimeStatus {
    const containers = this.containers.map((c) => c.status());
    const restartPolicy: RestartPolicy = this.opts.pod.spec?.restartPolicy ?? 'Always';
    const phase = this.failure !== undefined ? 'Failed' : podPhase(this.sandbox !== undefined, restartPolicy, containers);
    const sb = this.sandbox;
    return {
      uid: this.uid,
      namespace: this.namespace,
      name: this.name,
      node: this.nodeName,
      hostIP: this.opts.node.gatewayV4,
      podIPs: sb ? [sb.ipv4, sb.ipv6] : [],
      phase,
      ready: podReady(phase, containers),
      startTime: this.startTime,
      ...(sb ? { netns: sb.netnsName, cgroupPath: sb.cgroupPath } : {}),
      ...(this.failure ? { message: this.failure } : {}),
      containers,
    };
  }

  /**
   * Enrolls the pod while its containers run (its namespace turned ambient), as istio-cni does
   * for running pods: capture applies from the ack on; connections already open stay uncaptured.
   */
  async enrollRunning(mesh: NonNullable<PodRunnerOptions['mesh']>): Promise<void> {
    if (this.enrolled || this.sandbox === undefined || this.failure !== undefined) return;
    await mesh.enroll({ uid: this.uid, sandbox: this.sandbox });
    this.mesh = mesh;
    this.enrolled = true;
    this.opts.onChange();
  }

  /**
   * Takes the running pod out of the mesh (the agent drains its connections); it keeps running.
   * `enrolled` stays true until the agent acked: a failed unenroll is retried at the runtime's
   * next reconcile (it compares `enrolled` with what the labels want).
   */
  async unenrollRunning(): Promise<void> {
    if (!this.enrolled || this.mesh === undefined) return;
    await this.mesh.unenroll(this.uid);
    this.enrolled = false;
    this.opts.onChange();
  }

  /** Stops every container (SIGTERM, then SIGKILL after the grace period) and removes the sandbox. */
  async stop(): Promise<void> {
    const grace = (this.opts.pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
    await Promise.all(this.containers.map((c) => c.stop(grace)));
    if (this.enrolled && this.mesh) {
      this.enrolled = false;
      await this.mesh.unenroll(this.uid).catch((err: Error) => this.opts.logger.warn({ err }, 'unenrolling from the agent failed'));
    }
    if (this.sandbox !== undefined) await this.opts.cluster.removePod(this.sandbox);
  }
}
