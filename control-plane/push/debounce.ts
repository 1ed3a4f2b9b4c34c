/**
 * Trailing debounce with a maximum wait: a burst of store batches becomes one push, sent `quietMs`
 * after the last batch but never later than `maxWaitMs` after the first, so a steady stream of
 * changes cannot starve clients.
 */
import { performance } from 'node:perf_hooks';

export class Debouncer {
  private timer: NodeJS.Timeout | undefined;
  private firstAt: number | undefined;

  constructor(
    private readonly fire: () => void,
    private readonly quietMs: number,
    private readonly maxWaitMs: number,
  ) {}

  get pending(): boolean {
    return this.timer !== undefined;
  }

  trigger(): void {
    const now = performance.now();
    this.firstAt ??= now;
    const due = Math.min(now + this.quietMs, this.firstAt + Math.max(this.maxWaitMs, this.quietMs));
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(this.run, Math.max(0, due - now));
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.firstAt = undefined;
  }

  private readonly run = (): void => {
    this.timer = undefined;
    this.firstAt = undefined;
    this.fire();
  };
}
