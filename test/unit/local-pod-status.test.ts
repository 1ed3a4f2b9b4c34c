import { podConditions, podPhase, podReady, willRestart, type ContainerState, type ContainerStatusView } from '../../cli/local/pod-status';

const t = '2026-01-01T00:00:00Z';
const running: ContainerState = { kind: 'running', startedAt: t };
const exited = (exitCode: number): ContainerState => ({ kind: 'terminated', exitCode, signal: null, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: t, finishedAt: t });
const c = (state: ContainerState, extra: Partial<ContainerStatusView> = {}): ContainerStatusView => ({
  name: 'c',
  state,
  ready: state.kind === 'running',
  restartCount: 0,
  started: true,
  ...extra,
});

describe('local runtime pod phase (kubelet getPhase)', () => {
  it('is Pending while the sandbox is built or a container never started', () => {
    expect(podPhase(false, 'Always', [])).toBe('Pending');
    expect(podPhase(true, 'Always', [c({ kind: 'waiting', reason: 'ContainerCreating' }, { started: false })])).toBe('Pending');
  });

  it('is Running while a container runs, or waits in back-off to be restarted', () => {
    expect(podPhase(true, 'Never', [c(running), c(exited(1))])).toBe('Running');
    const backoff = c({ kind: 'waiting', reason: 'CrashLoopBackOff' }, { lastState: exited(1), restartCount: 2 });
    expect(podPhase(true, 'Always', [backoff])).toBe('Running');
  });

  it('ends Succeeded or Failed by restartPolicy once nothing will be restarted', () => {
    expect(podPhase(true, 'Never', [c(exited(0)), c(exited(0))])).toBe('Succeeded');
    expect(podPhase(true, 'Never', [c(exited(0)), c(exited(2))])).toBe('Failed');
    expect(podPhase(true, 'OnFailure', [c(exited(0))])).toBe('Succeeded');
    expect(podPhase(true, 'OnFailure', [c(exited(3))])).toBe('Running'); // will be restarted
    expect(podPhase(true, 'Always', [c(exited(0))])).toBe('Running');
  });

  it('restarts per policy', () => {
    expect(willRestart('Always', exited(0))).toBe(true);
    expect(willRestart('OnFailure', exited(0))).toBe(false);
    expect(willRestart('OnFailure', exited(1))).toBe(true);
    expect(willRestart('Never', exited(1))).toBe(false);
    expect(willRestart('Always', running)).toBe(false);
  });

  it('is ready only when Running with every container running and ready', () => {
    expect(podReady('Running', [c(running), c(running)])).toBe(true);
    expect(podReady('Running', [c(running), c(running, { ready: false })])).toBe(false);
    expect(podReady('Succeeded', [c(exited(0), { ready: true })])).toBe(false);
    expect(podReady('Running', [])).toBe(false);
    expect(podConditions(true, true).map((x) => `${x.type}=${x.status}`)).toEqual([
      'PodScheduled=True',
      'Initialized=True',
      'ContainersReady=True',
      'Ready=True',
    ]);
    expect(podConditions(true, false).find((x) => x.type === 'Ready')?.status).toBe('False');
  });
});
