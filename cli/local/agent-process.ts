// The agent of one simulated node, run the way a DaemonSet would run it: its own process (in the
// runtime's network namespace, so it reaches the control plane on loopback, and in the node's
// "-host" cgroup, outside the pods' cgroups), restarted after a crash with back-off, stopped with
// SIGTERM (it drains) and then SIGKILL. Its admin ports are on a loopback address of its own
// (127.<runtime pid>.<node index>, all of 127/8 is local), so every node's agent keeps the standard
// port numbers and two runtimes on one machine do not collide.
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/log';
import { Ports } from '../../common/ports';
import { identify, spawnIn, type CleanupStack, type ProcessIdentity, type SandboxNode } from '../../common/sandbox';
import { RestartBackoff } from './restart-backoff';

export interface AgentProcessOptions {
  node: SandboxNode;
  /** The node's cgroup (the agent attaches capture there). */
  cgroupRoot: string;
  /**
   * bpffs directory for the agent's pinned capture: it stays in place (failing closed) while the
   * agent is down or restarting, and the next agent re-adopts it.
   */
  pinDir: string;
  controlPlane: string;
  tokenFile: string;
  /** <state>/agents/<node>: enrollment socket, config cache, log. */
  dir: string;
  cleanup: CleanupStack;
  logger: Logger;
  /** Extra environment (tests: DNS upstream, certificate validity, drain deadline). */
  env?: Record<string, string>;
  onStart?: (pid: number) => void;
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** Runs agent/main.(js|ts) next to this file, through the same loader as this process. */
function agentArgv(): string[] {
  const ext = path.extname(__filename);
  return [...process.execArgv, path.join(__dirname, '..', '..', 'agent', `main${ext}`)];
}

/** 127.<a>.<b>.<node index> with a.b from the runtime's pid (a >= 1 keeps clear of 127.0.0.x). */
export const agentAdminAddress = (nodeIndex: number, runtimePid = process.pid): string =>
  `127.${1 + (Math.floor(runtimePid / 256) % 254)}.${runtimePid % 256}.${nodeIndex}`;

export class AgentProcess {
  private child: ChildProcess | undefined;
  private identityOf: ProcessIdentity | undefined;
  private readonly backoff = new RestartBackoff();
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private startedAt = 0;
  restarts = 0;

  constructor(private readonly opts: AgentProcessOptions) {
    fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  }

  get socketPath(): string {
    return path.join(this.opts.dir, 'enrollment.sock');
  }

  get logFile(): string {
    return path.join(this.opts.dir, 'agent.log');
  }

  get adminHost(): string {
    return agentAdminAddress(this.opts.node.index);
  }

  get identity(): ProcessIdentity | undefined {
    return this.identityOf;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.stopping) return;
    const { node, dir } = this.opts;
    const host = this.adminHost;
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      AMBIT_NODE_NAME: node.name,
      AMBIT_CONTROL_PLANE: this.opts.controlPlane,
      AMBIT_NODE_TOKEN_FILE: this.opts.tokenFile,
      AMBIT_CGROUP_ROOT: this.opts.cgroupRoot,
      AMBIT_PIN_DIR: this.opts.pinDir,
      AMBIT_ENROLLMENT_SOCKET: this.socketPath,
      AMBIT_AGENT_STATE_DIR: dir,
      AMBIT_ADMIN_LISTEN: `${host}:${Ports.admin}`,
      AMBIT_METRICS_LISTEN: `${host}:${Ports.metrics}`,
      AMBIT_READINESS_LISTEN: `${host}:${Ports.readiness}`,
      // The demo has no resolver of its own to forward to; mesh names are answered locally.
      AMBIT_DNS_UPSTREAM: process.env.AMBIT_DNS_UPSTREAM ?? 'none',
      // The runtime's readiness probes come from the node's bridge address, as a kubelet's would.
      AMBIT_PROBE_SOURCES: [node.gatewayV4, node.gatewayV6].join(','),
      AMBIT_DRAIN_TIMEOUT_MS: process.env.AMBIT_DRAIN_TIMEOUT_MS ?? '5000',
      ...this.opts.env,
    };
    const log = fs.openSync(this.logFile, 'a', 0o600);
    const [file, ...args] = [process.execPath, ...agentArgv()];
    // The runtime's own netns: the agent reaches the control plane on loopback; pods' sockets are
    // made inside their namespaces through the addon.
    const placement = { netnsPath: `/proc/${process.pid}/ns/net`, cgroupPath: node.hostCgroupPath };
    const child = spawnIn(placement, this.opts.cleanup, file, args, { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.child = child;
    this.startedAt = Date.now();
    if (child.pid !== undefined) {
      this.identityOf = identify(child.pid);
      this.opts.onStart?.(child.pid);
    }
    child.once('exit', (code, signal) => {
      this.child = undefined;
      this.opts.onExit?.(code, signal);
      if (this.stopping) return;
      const delay = this.backoff.next(Date.now() - this.startedAt);
      this.opts.logger.warn({ node: node.name, code, signal, restartInMs: delay }, 'agent exited; restarting');
      this.restartTimer = setTimeout(() => {
        this.restarts++;
        this.start();
      }, delay);
    });
  }

  /** SIGTERM (the agent drains), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Kill -9 (tests: an agent crash); the supervisor restarts it. */
  crash(): void {
    this.child?.kill('SIGKILL');
  }
}
