// The local runtime: a kubelet per simulated node and an API server's bookkeeping, in one process.
// It keeps the sandbox cluster (common/sandbox, family ambit-l, fabric interconnect) in step with
// the YAML directory: a node per distinct spec.nodeName, a pod sandbox per Pod with its containers
// running as host processes, pods replaced when their spec changes and removed when their file
// goes; and it runs the embedded control plane on the same objects seen through the status overlay.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/log';
import { identify, SandboxCluster, SandboxNamer, type ProcessIdentity, type SandboxNode } from '../../common/sandbox';
import type { ObjectKey, Pod, Service } from '../../control-plane/kube/objects';
import { objectKey } from '../../control-plane/kube/objects';
import type { ConfigSource } from '../../control-plane/sources/source';
import type { MetricsDialer } from '../../control-plane/dashboard/metrics-fetch';
import { ClusterIpAllocator } from './cluster-ips';
import { formatProblem } from './config-check';
import { DesiredState } from './desired-state';
import { LocalError, LocalErrorCodes } from './errors';
import { PodRunner, type PodRunnerOptions } from './pod-runner';
import { AgentProcess } from './agent-process';
import { EnrollmentLink } from './enrollment-link';
import { nodeNetnsDial } from './node-netns-dial';
import { isAmbient, WAYPOINT_GATEWAY_LABEL } from './status-snapshot';
import { RecordWriter, type StatusDoc } from './runtime-record';
import { planReconcile, specOf } from './reconcile-plan';
import type { ServiceForEnv } from './service-env';
import type { StatePaths } from './state-dir';
import { runtimeRecord, statusDoc, type SnapshotInput } from './status-snapshot';
import { StatusOverlay } from './status-overlay';

export const RUNTIME_FAMILY = 'ambit-l';

export interface ControlPlaneHandle {
  readonly grpcAddress: string;
  readonly httpAddress: string;
  close(): Promise<void>;
}

/** How the runtime reaches the control plane (control-plane-link.ts); absent: pods only. */
export interface ControlPlaneHooks {
  /** `dashboardDial`: how the control plane's dashboard reaches pod (waypoint) metrics addresses. */
  start(overlay: ConfigSource, dashboardDial?: MetricsDialer): Promise<ControlPlaneHandle>;
  /** Issues `node`'s agent its bootstrap token; returns the token file. */
  issueNodeToken(node: string): string;
  /** The control plane's address as pods (waypoints) reach it: unix:<socket>. */
  podAddress?: string;
}

/** One agent per node, run by the runtime as a DaemonSet would (absent: pods are not captured). */
export interface AgentHooks {
  /** Extra environment for the agents (tests). */
  env?: Record<string, string>;
}

interface NodeAgent {
  process: AgentProcess;
  link: EnrollmentLink;
}

export interface RuntimeOptions {
  /** The YAML directory (absolute). */
  dir: string;
  paths: StatePaths;
  /** The YAML directory source. */
  source: ConfigSource;
  controlPlane?: ControlPlaneHooks;
  /** Run node agents and enroll ambient pods (needs the control plane). */
  agents?: AgentHooks;
  logger: Logger;
  /** One human-readable line per step (`up` prints them). */
  progress: (line: string) => void;
}

interface Running {
  runner: PodRunner;
  /** The spec it was created from: a different spec replaces the pod (pods are immutable). */
  spec: string;
  wasReady: boolean;
}

const podKey = (ns: string, name: string): ObjectKey => `Pod/${ns}/${name}`;

export class LocalRuntime {
  private readonly desired = new DesiredState();
  private readonly vips = new ClusterIpAllocator();
  private readonly pods = new Map<ObjectKey, Running>();
  private readonly nodeFds = new Map<string, number>();
  private readonly tokenFiles = new Map<string, string>();
  private readonly agents = new Map<string, NodeAgent>();
  private cpStarted: Promise<void> | undefined;
  private readonly statusListeners = new Set<(ns: string, name: string) => void>();
  private readonly identity: ProcessIdentity;
  private readonly startedAt = new Date().toISOString();
  private readonly namer = new SandboxNamer(RUNTIME_FAMILY);
  private readonly records: RecordWriter;
  private cluster: SandboxCluster | undefined;
  private overlay: StatusOverlay | undefined;
  private cp: ControlPlaneHandle | undefined;
  private cpState: StatusDoc['controlPlane'] = { state: 'starting' };
  private state: StatusDoc['state'] = 'starting';
  private reconciling: Promise<void> | undefined;
  private dirty = false;
  private stopping: Promise<void> | undefined;

  private constructor(private readonly opts: RuntimeOptions) {
    const me = identify(process.pid);
    if (me === undefined) throw new Error('cannot read /proc/self/stat');
    this.identity = me;
    this.records = new RecordWriter(opts.paths, () => this.snapshot(), (err) => opts.logger.error({ err }, 'cannot write state files'));
  }

  /** Starts everything; on failure removes what it created and rejects. */
  static async start(opts: RuntimeOptions): Promise<LocalRuntime> {
    const rt = new LocalRuntime(opts);
    try {
      await rt.boot();
    } catch (err) {
      await rt.stop().catch((e: Error) => opts.logger.error({ err: e }, 'cleanup after a failed start failed'));
      if (err instanceof LocalError) throw err;
      throw new LocalError(LocalErrorCodes.START_FAILED, `start-up failed: ${(err as Error).message}`, { cause: err });
    }
    return rt;
  }

  private async boot(): Promise<void> {
    const { paths, progress } = this.opts;
    fs.mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
    // runtime.json names our pid and prefix before the first resource exists, so `down` can find
    // everything even if we are killed in the middle of creating it.
    this.records.flush();
    // The pin directory holds each agent's capture (<pinDir>/<node>), so it survives an agent's
    // restart (fails closed meanwhile); it is removed with the cluster.
    this.cluster = await SandboxCluster.create({ namer: this.namer, interconnect: 'fabric', pinDir: true });
    this.records.flush();
    await this.opts.source.start(this.desired);
    await this.desired.whenSynced();
    const errors = this.desired.currentProblems().filter((p) => p.severity === 'error');
    if (errors.length > 0) {
      throw new LocalError(LocalErrorCodes.CONFIG_INVALID, `${this.opts.dir} has ${errors.length} error(s):\n${errors.map(formatProblem).join('\n')}`);
    }
    this.desired.subscribe({
      changed: (changes) => {
        for (const key of changes.remove) if (key.startsWith('Service/')) this.vips.release(key);
        void this.reconcileSoon();
      },
      // The source logs its problems itself; status.json shows them.
      problems: () => this.records.schedule(),
    });
    this.overlay = new StatusOverlay(
      this.desired,
      { podStatus: (ns, name) => this.pods.get(podKey(ns, name))?.runner.status(), onPodStatus: (l) => this.onPodStatus(l) },
      { clusterIP: (svc) => this.clusterIP(svc) },
      this.opts.source.name,
    );
    this.cpStarted = this.startControlPlane();
    await Promise.all([this.reconcileSoon(), this.cpStarted]);
    this.state = 'running';
    this.records.flush();
    progress(`runtime running (pid ${process.pid})`);
  }

  private async startControlPlane(): Promise<void> {
    if (this.opts.controlPlane === undefined || this.overlay === undefined) {
      this.cpState = { state: 'failed', error: 'not started (no control plane given to the runtime)' };
      return;
    }
    this.cp = await this.opts.controlPlane.start(this.overlay, nodeNetnsDial(() => this.nodeFds.values().next().value));
    this.cpState = { state: 'running', grpcAddress: this.cp.grpcAddress, httpAddress: this.cp.httpAddress };
    this.opts.progress(`control plane up: gRPC ${this.cp.grpcAddress}, HTTP ${this.cp.httpAddress}`);
    this.records.schedule();
  }

  private clusterIP(svc: Service): string {
    const r = this.vips.assign(objectKey(svc), svc.spec?.clusterIP);
    if (r.warning !== undefined) this.opts.logger.warn(r.warning);
    return r.ip;
  }

  private onPodStatus(listener: (ns: string, name: string) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Runs reconcile passes until nothing changed during the last one. */
  private reconcileSoon(): Promise<void> {
    this.dirty = true;
    this.reconciling ??= (async () => {
      while (this.dirty && this.stopping === undefined) {
        this.dirty = false;
        await this.reconcileOnce();
      }
    })().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    const cluster = this.cluster!;
    const running = new Map([...this.pods].map(([key, r]) => [key, { spec: r.spec, node: r.runner.nodeName }]));
    const plan = planReconcile(new Map(this.desired.pods().map((p) => [objectKey(p), p])), running, cluster.nodes.map((n) => n.name));
    await Promise.all(
      plan.remove.map(async ({ key, reason }) => {
        const { runner } = this.pods.get(key)!;
        this.pods.delete(key);
        this.opts.progress(`pod ${runner.namespace}/${runner.name}: ${reason === 'changed' ? 'spec changed, replacing' : 'removed'}`);
        await runner.stop().catch((err: Error) => this.opts.logger.error({ err, pod: key }, 'stopping pod failed'));
        this.notify(runner.namespace, runner.name);
      }),
    );
    for (const name of plan.addNodes) await this.addNode(name);
    await Promise.all(
      plan.create.map(({ key, pod, node }) => {
        const runner = this.newRunner(pod, cluster.node(node)!);
        this.pods.set(key, { runner, spec: specOf(pod), wasReady: false });
        return runner.start().then(
          () => {
            this.records.schedule();
            const sb = runner.sandboxPod!;
            this.opts.progress(`pod ${runner.namespace}/${runner.name} on ${node}: ${sb.ipv4} ${sb.ipv6}`);
          },
          (err: Error) => this.opts.progress(`pod ${runner.namespace}/${runner.name} on ${node}: FAILED ${err.message}`),
        );
      }),
    );
    await this.followLabels();
    this.records.schedule();
  }

  private async addNode(name: string): Promise<SandboxNode> {
    const node = await this.cluster!.addNode(name);
    this.nodeFds.set(name, fs.openSync(node.netnsPath, 'r'));
    if (this.opts.controlPlane !== undefined) this.tokenFiles.set(name, this.opts.controlPlane.issueNodeToken(name));
    this.opts.progress(`node ${name}: netns ${node.netns}, pods ${node.gatewayV4.replace(/\.1$/, '.0/24')}`);
    if (this.opts.agents !== undefined && this.opts.controlPlane !== undefined) await this.startAgent(node);
    this.records.schedule();
    return node;
  }

  /** The node's agent, once the control plane it talks to is up; pods wait for it to enroll. */
  private async startAgent(node: SandboxNode): Promise<void> {
    await this.cpStarted;
    if (this.cp === undefined || this.stopping !== undefined) return;
    const dir = path.join(this.opts.paths.agents, node.name);
    const proc = new AgentProcess({
      node,
      cgroupRoot: node.cgroupPath,
      pinDir: path.join(this.cluster!.pinDir!, node.name),
      controlPlane: this.cp.grpcAddress,
      tokenFile: this.tokenFiles.get(node.name)!,
      dir,
      cleanup: node.cleanup,
      logger: this.opts.logger,
      env: this.opts.agents?.env,
      onStart: (pid) => {
        this.opts.progress(`agent on ${node.name}: pid ${pid}, admin http://${proc.adminHost}:15000, log ${proc.logFile}`);
        this.records.schedule();
      },
      onExit: () => this.records.schedule(),
    });
    const link = new EnrollmentLink({
      socketPath: proc.socketPath,
      node: node.name,
      logger: this.opts.logger,
      onResync: (n) => this.opts.logger.info({ node: node.name, pods: n }, 'enrollment snapshot sent'),
    });
    this.agents.set(node.name, { process: proc, link });
    proc.start();
    link.sync().catch((err: Error) => this.opts.logger.error({ err, node: node.name }, 'no enrollment connection to the agent'));
  }

  /** The agent of a node, for tests and `status`. */
  agentOf(node: string): AgentProcess | undefined {
    return this.agents.get(node)?.process;
  }

  private newRunner(pod: Pod, node: SandboxNode): PodRunner {
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name;
    const agent = this.agents.get(node.name);
    const mesh = agent !== undefined && isAmbient(pod, this.desired.namespaceLabels(ns)) ? this.meshHooks(pod, agent) : undefined;
    return new PodRunner({
      pod,
      node,
      platformEnv: this.waypointEnv(pod, node),
      cluster: this.cluster!,
      workDir: this.opts.dir,
      logDir: this.opts.paths.logs,
      nodeNetnsFd: this.nodeFds.get(node.name)!,
      mesh,
      services: (namespace) => this.servicesForEnv(namespace),
      onChange: () => this.podChanged(ns, name),
      logger: this.opts.logger.child({ pod: `${ns}/${name}` }),
    });
  }

  /** The CNI's part for one pod: enroll with its node's agent, unenroll by uid. */
  private meshHooks(pod: Pod, agent: NodeAgent): NonNullable<PodRunnerOptions['mesh']> {
    const ns = pod.metadata.namespace ?? 'default';
    return {
      enroll: ({ uid, sandbox }) =>
        agent.link.add(
          {
            uid,
            name: pod.metadata.name,
            namespace: ns,
            serviceAccount: pod.spec?.serviceAccountName ?? 'default',
            cgroupPath: sandbox.cgroupPath,
            ips: [sandbox.ipv4, sandbox.ipv6],
          },
          sandbox.netnsPath,
        ),
      unenroll: (uid) => agent.link.del(uid),
    };
  }

  /**
   * Enrollment follows labels for running pods too, as istio-cni's pod watch does: when a
   * namespace (or pod) label makes a running pod ambient it is enrolled in place, and when it stops
   * being ambient it is unenrolled; no pod restarts (`ambit label ns` relies on this).
   */
  private async followLabels(): Promise<void> {
    await Promise.all(
      [...this.pods].map(async ([key, { runner }]) => {
        if (runner.sandboxPod === undefined || runner.status().phase === 'Failed') return;
        const pod = (this.desired.get(key) as Pod | undefined) ?? runner.spec;
        const agent = this.agents.get(runner.nodeName);
        const want = agent !== undefined && isAmbient(pod, this.desired.namespaceLabels(runner.namespace));
        if (want === runner.enrolled) return;
        try {
          if (want) await runner.enrollRunning(this.meshHooks(pod, agent!));
          else await runner.unenrollRunning();
          this.opts.progress(`pod ${runner.namespace}/${runner.name}: ${want ? 'enrolled' : 'unenrolled'} (labels changed)`);
        } catch (err) {
          this.opts.logger.warn({ err, pod: key }, `${want ? 'enrolling' : 'unenrolling'} a running pod failed; retried at the next change`);
        }
      }),
    );
  }

  /**
   * What a waypoint pod gets from the platform, as the waypoint controller and a projected token
   * would give it on Kubernetes: the control plane's address, a credential for certificates (its
   * node's token: the CA issues only identities of pods on that node), its Gateway and a state
   * directory.
   */
  private waypointEnv(pod: Pod, node: SandboxNode): Record<string, string> | undefined {
    const gateway = pod.metadata.labels?.[WAYPOINT_GATEWAY_LABEL];
    const cp = this.opts.controlPlane;
    if (gateway === undefined || cp?.podAddress === undefined) return undefined;
    const ns = pod.metadata.namespace ?? 'default';
    return {
      AMBIT_CONTROL_PLANE: cp.podAddress,
      AMBIT_NODE_TOKEN_FILE: this.tokenFiles.get(node.name) ?? '',
      AMBIT_WAYPOINT_NAME: `${ns}/${gateway}`,
      AMBIT_WAYPOINT_SERVICE_ACCOUNT: pod.spec?.serviceAccountName ?? gateway,
      AMBIT_WAYPOINT_STATE_DIR: path.join(this.opts.paths.waypoints, `${ns}_${pod.metadata.name}`),
    };
  }

  private servicesForEnv(namespace: string): ServiceForEnv[] {
    return this.desired
      .services()
      .filter((s) => (s.metadata.namespace ?? 'default') === namespace)
      .map((s) => ({ name: s.metadata.name, clusterIP: this.clusterIP(s), ports: s.spec?.ports ?? [] }));
  }

  private podChanged(ns: string, name: string): void {
    const r = this.pods.get(podKey(ns, name));
    if (r !== undefined) {
      const ready = r.runner.status().ready;
      // During teardown every pod goes not ready; that is not news.
      if (ready !== r.wasReady && this.stopping === undefined) this.opts.progress(`pod ${ns}/${name} ${ready ? 'ready' : 'not ready'}`);
      r.wasReady = ready;
    }
    this.notify(ns, name);
  }

  private notify(ns: string, name: string): void {
    for (const l of this.statusListeners) l(ns, name);
    this.records.schedule();
  }

  private snapshotInput(): SnapshotInput {
    return {
      runtime: { ...this.identity, startedAt: this.startedAt, dir: this.opts.dir, stateDir: this.opts.paths.dir, prefix: this.namer.prefix },
      state: this.state,
      controlPlane: this.cpState,
      cluster: this.cluster,
      tokenFiles: this.tokenFiles,
      agents: new Map(
        [...this.agents].map(([node, a]) => [
          node,
          {
            running: a.process.running,
            pid: a.process.running ? a.process.identity?.pid : undefined,
            adminAddress: a.process.adminHost,
            restarts: a.process.restarts,
            log: a.process.logFile,
            enrollmentSocket: a.process.socketPath,
          },
        ]),
      ),
      runners: [...this.pods.values()].map((r) => r.runner),
      services: this.desired.services(),
      clusterIP: (svc) => this.clusterIP(svc),
      namespaceLabels: (ns) => this.desired.namespaceLabels(ns),
      problems: this.desired.currentProblems(),
    };
  }

  /** runtime.json and status.json as of now. */
  snapshot(): { record: ReturnType<typeof runtimeRecord>; status: StatusDoc } {
    const input = this.snapshotInput();
    return { record: runtimeRecord(input), status: statusDoc(input) };
  }

  /**
   * Stops the source and the control plane, stops every container (SIGTERM, grace, SIGKILL),
   * removes every netns and cgroup, then the state files. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  private async teardown(): Promise<void> {
    const { logger, paths } = this.opts;
    this.state = 'stopping';
    this.records.schedule();
    const errors: Error[] = [];
    const step = async (what: string, fn: () => Promise<unknown> | unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        logger.error({ err }, `${what} failed`);
        errors.push(err as Error);
      }
    };
    await step('stopping the source', () => this.opts.source.stop());
    await step('waiting for reconciliation', () => this.reconciling);
    await step('closing the control plane', () => this.cp?.close());
    await step('stopping pods', () => Promise.all([...this.pods.values()].map((r) => r.runner.stop())));
    await step('stopping agents', () =>
      Promise.all(
        [...this.agents.values()].map(async (a) => {
          a.link.close();
          await a.process.stop();
        }),
      ),
    );
    await step('removing the cluster', () => this.cluster?.destroy());
    for (const fd of this.nodeFds.values()) fs.closeSync(fd);
    this.nodeFds.clear();
    this.records.close();
    if (errors.length > 0) {
      // Keep runtime.json: `ambit local down` finishes the job from it.
      throw new LocalError(LocalErrorCodes.TEARDOWN, `teardown incomplete: ${errors.map((e) => e.message).join('; ')}`);
    }
    for (const f of [paths.runtime, paths.status]) fs.rmSync(f, { force: true });
    for (const d of [paths.logs, paths.controlPlane, paths.agents]) fs.rmSync(d, { recursive: true, force: true });
    try {
      fs.rmdirSync(paths.dir); // empty in the foreground; runtime.log stays for `down` otherwise
    } catch {
      // not empty: leave it
    }
  }
}
