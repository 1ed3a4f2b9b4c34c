// A pod's phase and conditions from its containers' states, following the kubelet's getPhase()
// (pkg/kubelet/kubelet_pods.go) for pods without init containers:
//   Pending    the sandbox is being built, or some container has not started for the first time
//   Running    some container runs, or all stopped but restartPolicy will start them again
//   Succeeded  all containers exited 0 and none will be restarted
//   Failed     all containers stopped, none will be restarted, and at least one failed
// Conditions: PodScheduled, Initialized, ContainersReady (every container ready) and Ready
// (= ContainersReady, as no readiness gates are supported).
import type { PodCondition, PodStatus } from '../../control-plane/kube/objects';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: string }
  | { kind: 'terminated'; exitCode: number | null; signal: string | null; reason: string; startedAt: string; finishedAt: string };

export interface ContainerStatusView {
  name: string;
  state: ContainerState;
  /** The previous run's end, once it has restarted at least once. */
  lastState?: ContainerState;
  ready: boolean;
  restartCount: number;
  /** Whether it has ever been started. */
  started: boolean;
  /** Host pid of the current run. */
  pid?: number;
}

export type PodPhase = NonNullable<PodStatus['phase']>;

const succeeded = (s: ContainerState): boolean => s.kind === 'terminated' && s.exitCode === 0;

/** Whether a container that stopped in `state` will be started again under `policy`. */
export function willRestart(policy: RestartPolicy, state: ContainerState): boolean {
  if (state.kind !== 'terminated') return false;
  return policy === 'Always' || (policy === 'OnFailure' && !succeeded(state));
}

export function podPhase(sandboxReady: boolean, policy: RestartPolicy, containers: readonly ContainerStatusView[]): PodPhase {
  if (!sandboxReady || containers.some((c) => !c.started)) return 'Pending';
  if (containers.some((c) => c.state.kind === 'running')) return 'Running';
  // Everything stopped. Waiting in back-off counts as the run that ended before it.
  const ends = containers.map((c) => (c.state.kind === 'waiting' ? c.lastState : c.state));
  if (ends.some((s) => s === undefined || willRestart(policy, s))) return 'Running';
  return ends.every((s) => s !== undefined && succeeded(s)) ? 'Succeeded' : 'Failed';
}

/** The pod is ready when every container is running and ready (and the pod is still Running). */
export function podReady(phase: PodPhase, containers: readonly ContainerStatusView[]): boolean {
  return phase === 'Running' && containers.length > 0 && containers.every((c) => c.ready && c.state.kind === 'running');
}

export function podConditions(scheduled: boolean, ready: boolean): PodCondition[] {
  const cond = (type: string, ok: boolean): PodCondition => ({ type, status: ok ? 'True' : 'False' });
  return [cond('PodScheduled', scheduled), cond('Initialized', scheduled), cond('ContainersReady', ready), cond('Ready', ready)];
}
