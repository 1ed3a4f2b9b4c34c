// The readiness prober of one container run: probes on the kubelet's schedule (probe-state.ts)
// and reports each change of readiness. One prober per run; a restarted container gets a new one,
// so it starts over not ready.
import type { Logger } from '../../common/log';
import type { Probe } from '../../control-plane/kube/objects';
import { runProbe, type ProbeContext, type ProbeResult } from './probe-check';
import { probeTiming, ReadinessState, type ProbeTiming } from './probe-state';

export class ReadinessProber {
  private readonly timing: ProbeTiming;
  private readonly state: ReadinessState;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private last: ProbeResult | undefined;

  constructor(
    private readonly probe: Probe,
    private readonly ctx: ProbeContext,
    private readonly onChange: (ready: boolean, result: ProbeResult) => void,
    private readonly logger: Logger,
  ) {
    this.timing = probeTiming(probe);
    this.state = new ReadinessState(this.timing);
  }

  get ready(): boolean {
    return this.state.ready;
  }

  /** The latest result (undefined before the first probe). */
  get lastResult(): ProbeResult | undefined {
    return this.last;
  }

  /** Starts probing a run that began at `startedAt` (ms epoch): first after initialDelaySeconds. */
  start(startedAt: number): void {
    this.schedule(Math.max(0, startedAt + this.timing.initialDelayMs - Date.now()));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    const began = Date.now();
    const result = await runProbe(this.probe, this.ctx, this.timing.timeoutMs);
    if (this.stopped) return;
    const changed = this.state.record(result.ok);
    if (!result.ok || changed) this.logger.debug({ ok: result.ok, detail: result.detail, ready: this.state.ready }, 'readiness probe');
    // Report readiness changes, and a failure whose reason changed (first ECONNREFUSED while the
    // app starts, then HTTP 500 once it answers), so status says why a pod is not ready.
    const news = changed || (!result.ok && result.detail !== this.last?.detail);
    this.last = result;
    if (news) this.onChange(this.state.ready, result);
    // Like the kubelet's ticker: probes start `periodSeconds` apart, however long one took.
    this.schedule(Math.max(0, began + this.timing.periodMs - Date.now()));
  }
}
