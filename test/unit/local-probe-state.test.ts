import { nextProbeDelay, probeTiming, ReadinessState } from '../../cli/local/probe-state';

describe('local runtime readiness probe timing', () => {
  it('fills in the Kubernetes defaults', () => {
    expect(probeTiming({ httpGet: { port: 80 } })).toEqual({
      initialDelayMs: 0,
      periodMs: 10_000,
      timeoutMs: 1_000,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });

  it('takes the probe values and raises a period or timeout below 1 s to the default', () => {
    expect(
      probeTiming({ tcpSocket: { port: 1 }, initialDelaySeconds: 2, periodSeconds: 1, timeoutSeconds: 3, successThreshold: 2, failureThreshold: 5 }),
    ).toEqual({ initialDelayMs: 2_000, periodMs: 1_000, timeoutMs: 3_000, successThreshold: 2, failureThreshold: 5 });
    expect(probeTiming({ tcpSocket: { port: 1 }, periodSeconds: 0, timeoutSeconds: 0 })).toMatchObject({ periodMs: 10_000, timeoutMs: 1_000 });
  });

  it('does not probe before initialDelaySeconds, then every period', () => {
    const t = probeTiming({ httpGet: { port: 80 }, initialDelaySeconds: 5, periodSeconds: 2 });
    expect(nextProbeDelay(t, 1_000, 1_000, false)).toBe(5_000);
    expect(nextProbeDelay(t, 1_000, 4_000, false)).toBe(2_000);
    expect(nextProbeDelay(t, 1_000, 9_000, false)).toBe(0);
    expect(nextProbeDelay(t, 1_000, 9_000, true)).toBe(2_000);
  });
});

describe('local runtime readiness thresholds (kubelet semantics)', () => {
  it('starts not ready and becomes ready after successThreshold consecutive successes', () => {
    const s = new ReadinessState({ successThreshold: 2, failureThreshold: 3 });
    expect(s.ready).toBe(false);
    expect(s.record(true)).toBe(false);
    expect(s.record(false)).toBe(false); // the run is broken
    expect(s.record(true)).toBe(false);
    expect(s.record(true)).toBe(true);
    expect(s.ready).toBe(true);
  });

  it('becomes not ready only after failureThreshold consecutive failures', () => {
    const s = new ReadinessState({ successThreshold: 1, failureThreshold: 3 });
    s.record(true);
    expect(s.ready).toBe(true);
    expect([s.record(false), s.record(false)]).toEqual([false, false]);
    expect(s.record(true)).toBe(false); // still ready, run reset
    expect([s.record(false), s.record(false), s.record(false)]).toEqual([false, false, true]);
    expect(s.ready).toBe(false);
    expect(s.record(false)).toBe(false); // no change while it stays failed
  });

  it('a failing probe keeps a fresh container not ready however often it fails', () => {
    const s = new ReadinessState({ successThreshold: 1, failureThreshold: 1 });
    for (let i = 0; i < 5; i++) expect(s.record(false)).toBe(false);
    expect(s.ready).toBe(false);
  });

  it('reset() starts over as a restarted container', () => {
    const s = new ReadinessState({ successThreshold: 1, failureThreshold: 3 });
    s.record(true);
    s.reset();
    expect(s.ready).toBe(false);
    expect(s.record(true)).toBe(true);
  });
});
