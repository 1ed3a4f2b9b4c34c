// One container of a local pod: a host process started inside the pod's netns and cgroup (no
// image: `command` + `args` run as they are), its output appended to a log file, its readiness
// probed, and restarted after a crash as its pod's restartPolicy says, with back-off.
//
// Each run is its own process group (spawned detached), so stopping or restarting a container
// signals everything it forked; survivors of an exited run are killed by group, but only the
// members found in the pod's cgroup, so a recycled group id can never hit a stranger.
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Logger } from '../../common/log';
import { cgroupProcs, identify, spawnIn, type CleanupStack, type Placement, type ProcessIdentity } from '../../common/sandbox';
import type { Container } from '../../control-plane/kube/objects';
import type { ProbeContext, ProbeResult } from './probe-check';
import { ReadinessProber } from './readiness';
import { RestartBackoff } from './restart-backoff';
import { willRestart, type ContainerState, type ContainerStatusView, type RestartPolicy } from './pod-status';

export interface ContainerLaunch {
  /** Resolved executable and arguments ($(VAR) expanded, `node` → this Node binary). */
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  logFile: string;
}

export interface ContainerRunnerOptions {
  spec: Container;
  pod: Placement & { cleanup: CleanupStack };
  restartPolicy: RestartPolicy;
  /** Computed at each (re)start: Service variables reflect the Services that exist then. */
  launch: () => ContainerLaunch;
  probeContext: Omit<ProbeContext, 'ports'>;
  onChange: () => void;
  logger: Logger;
}

const now = (): string => new Date().toISOString();

/** pgid of `pid` (field 5 of /proc/<pid>/stat), undefined when it is gone. */
function pgidOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

export class ContainerRunner {
  private child: ChildProcess | undefined;
  private run: ProcessIdentity | undefined;
  private prober: ReadinessProber | undefined;
  private state: ContainerState = { kind: 'waiting', reason: 'ContainerCreating' };
  private lastState: ContainerState | undefined;
  private restarts = 0;
  private everStarted = false;
  private readyNow = false;
  private probeDetail: string | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly backoff = new RestartBackoff();
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ContainerRunnerOptions) {}

  get name(): string {
    return this.opts.spec.name;
  }

  /** Pid and start time of the current run (what runtime.json records for `down`). */
  get identity(): ProcessIdentity | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.run : undefined;
  }

  status(): ContainerStatusView & { probe?: string } {
    return {
      name: this.name,
      state: this.state,
      ...(this.lastState ? { lastState: this.lastState } : {}),
      ready: this.readyNow,
      restartCount: this.restarts,
      started: this.everStarted,
      ...(this.identity ? { pid: this.identity.pid } : {}),
      ...(this.probeDetail ? { probe: this.probeDetail } : {}),
    };
  }

  /** Starts a run now. */
  start(): void {
    if (this.stopping) return;
    let launch: ContainerLaunch;
    let logFd: number;
    try {
      launch = this.opts.launch();
      logFd = fs.openSync(launch.logFile, 'a');
    } catch (err) {
      this.state = { kind: 'waiting', reason: 'CreateContainerError', message: (err as Error).message };
      this.opts.logger.error({ err }, 'cannot start container');
      this.opts.onChange();
      return;
    }
    const child = spawnIn(this.opts.pod, this.opts.pod.cleanup, launch.file, launch.args, {
      cwd: launch.cwd,
      env: launch.env,
      stdio: ['ignore', logFd, logFd],
      detached: true,
    });
    fs.closeSync(logFd);
    const startedAt = Date.now();
    this.child = child;
    this.run = child.pid === undefined ? undefined : identify(child.pid);
    this.everStarted = true;
    this.state = { kind: 'running', startedAt: new Date(startedAt).toISOString() };
    this.readyNow = this.opts.spec.readinessProbe === undefined;
    this.probeDetail = undefined;
    this.exited = new Promise((resolve) => {
      let ended = false;
      const end = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (ended) return;
        ended = true;
        resolve(this.onExit(child, startedAt, code, signal));
      };
      child.once('exit', end);
      // No process at all (e.g. the wrapper could not be executed): a failed start, counted as a
      // crash so restartPolicy and back-off apply. 127 is the shell's "command not found".
      child.once('error', (err) => {
        this.opts.logger.error({ err }, 'spawn failed');
        if (child.pid === undefined) end(127, null);
      });
    });
    this.opts.logger.info({ pid: child.pid, file: launch.file, args: launch.args, restarts: this.restarts }, 'container started');
    if (this.opts.spec.readinessProbe !== undefined) {
      this.prober = new ReadinessProber(
        this.opts.spec.readinessProbe,
        { ...this.opts.probeContext, ports: this.opts.spec.ports ?? [] },
        (ready: boolean, result: ProbeResult) => {
          this.readyNow = ready;
          this.probeDetail = result.detail;
          this.opts.onChange();
        },
        this.opts.logger,
      );
      this.prober.start(startedAt);
    }
    this.opts.onChange();
  }

  private onExit(child: ChildProcess, startedAt: number, code: number | null, signal: NodeJS.Signals | null): void {
    this.prober?.stop();
    this.prober = undefined;
    if (child.pid !== undefined) this.killGroupSurvivors(child.pid);
    const ended: ContainerState = {
      kind: 'terminated',
      exitCode: code,
      signal,
      reason: code === 0 ? 'Completed' : 'Error',
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: now(),
    };
    this.readyNow = false;
    this.opts.logger.info({ pid: child.pid, code, signal }, 'container exited');
    if (this.stopping || !willRestart(this.opts.restartPolicy, ended)) {
      this.state = ended;
    } else {
      const delay = this.backoff.next(Date.now() - startedAt);
      this.lastState = ended;
      this.state = { kind: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container` };
      this.restartTimer = setTimeout(() => {
        this.restarts++;
        this.start();
      }, delay);
    }
    this.opts.onChange();
  }

  /** SIGKILL what is left of the run's process group in the pod's cgroup. */
  private killGroupSurvivors(pgid: number): void {
    for (const pid of cgroupProcs(this.opts.pod.cgroupPath)) {
      if (pgidOf(pid) !== pgid) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /**
   * Stops for good: no more restarts, SIGTERM to the process group, SIGKILL after `graceMs`.
   * Resolves once the run has exited.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.prober?.stop();
    const child = this.child;
    if (child === undefined || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const pid = child.pid;
    const signalGroup = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-pid, sig);
      } catch {
        // the group is gone
      }
    };
    signalGroup('SIGTERM');
    const killer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(killer);
    }
  }
}
