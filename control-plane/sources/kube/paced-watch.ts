/**
 * The client's Watch, paced. ListWatch re-opens a watch the moment the previous one ends, which is
 * right when the server closed it after a while, and a hot loop when it ends at once every time
 * (a proxy cutting streams, an ERROR event on every try). A watch that ends within
 * QUICK_END_MS counts as a failure and the next one waits a back-off; one that lived longer resets
 * it. stop() cancels a watch still waiting to start, so none starts after the informer stopped.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { RetryBackoff, type BackoffOptions } from './retry-backoff';

const QUICK_END_MS = 1000;

export class PacedWatch extends Watch {
  private readonly backoff: RetryBackoff;
  private delayMs = 0;
  /** Bumped by cancel(): a watch waiting under an older generation never starts. */
  private generation = 0;

  constructor(
    config: KubeConfig,
    backoff: BackoffOptions,
    /** Called when a watch got its 200 and is streaming: the resource is healthy again. */
    private readonly onEstablished: () => void = () => undefined,
  ) {
    super(config);
    this.backoff = new RetryBackoff(backoff);
  }

  /** The delay the next watch will wait (for logs and tests). */
  get pendingDelayMs(): number {
    return this.delayMs;
  }

  cancel(): void {
    this.generation++;
    this.delayMs = 0;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    const generation = this.generation;
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (generation !== this.generation) return new AbortController(); // stopped while waiting
    const started = Date.now();
    let failed = false;
    const controller = await super.watch(path, queryParams, callback, (err) => {
      if (err !== null && err !== undefined) failed = true;
      else {
        if (Date.now() - started < QUICK_END_MS) this.delayMs = this.backoff.next();
        else {
          this.backoff.reset();
          this.delayMs = 0;
        }
      }
      done(err);
    });
    // Watch reports a refused request (non-200, connection error) through done before it returns.
    if (!failed && generation === this.generation) this.onEstablished();
    return controller;
  }
}
