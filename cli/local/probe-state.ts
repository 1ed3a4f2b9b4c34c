// Readiness probing with the kubelet's semantics (pkg/kubelet/prober/worker.go), as pure logic:
//   - defaults: initialDelaySeconds 0, periodSeconds 10, timeoutSeconds 1, successThreshold 1,
//     failureThreshold 3; the minimum period and timeout are 1 s;
//   - a container with a readiness probe starts not ready, and no probe runs before
//     initialDelaySeconds have passed since the container started;
//   - the result flips only after `successThreshold` consecutive successes (to ready) or
//     `failureThreshold` consecutive failures (to not ready); a mixed run changes nothing;
//   - a restarted container starts over (not ready, counters cleared).
// A container without a readiness probe is ready as soon as it runs.
import type { Probe } from '../../control-plane/kube/objects';

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

const positive = (v: number | undefined, dflt: number): number => (v === undefined || v < 1 ? dflt : v);

/** The probe's timing with the Kubernetes defaults filled in. */
export function probeTiming(p: Probe): ProbeTiming {
  return {
    initialDelayMs: Math.max(0, p.initialDelaySeconds ?? 0) * 1000,
    periodMs: positive(p.periodSeconds, 10) * 1000,
    timeoutMs: positive(p.timeoutSeconds, 1) * 1000,
    successThreshold: positive(p.successThreshold, 1),
    failureThreshold: positive(p.failureThreshold, 3),
  };
}

/** Consecutive-result bookkeeping of one readiness probe. */
export class ReadinessState {
  private readyNow = false;
  private lastResult: boolean | undefined;
  private run = 0;

  constructor(private readonly timing: Pick<ProbeTiming, 'successThreshold' | 'failureThreshold'>) {}

  get ready(): boolean {
    return this.readyNow;
  }

  /** Records one probe result; returns true when readiness changed. */
  record(success: boolean): boolean {
    this.run = success === this.lastResult ? this.run + 1 : 1;
    this.lastResult = success;
    const threshold = success ? this.timing.successThreshold : this.timing.failureThreshold;
    if (this.run < threshold || this.readyNow === success) return false;
    this.readyNow = success;
    return true;
  }

  /** Back to the state of a freshly started container. */
  reset(): void {
    this.readyNow = false;
    this.lastResult = undefined;
    this.run = 0;
  }
}

/** Milliseconds from now until the next probe of a container started at `startedAt`. */
export function nextProbeDelay(timing: ProbeTiming, startedAt: number, now: number, probedBefore: boolean): number {
  const dueAt = startedAt + timing.initialDelayMs;
  if (!probedBefore) return Math.max(0, dueAt - now);
  return timing.periodMs;
}
