// Resource registry: every resource a sandbox creates registers its own removal here, the moment
// it exists. Removal runs last-in-first-out (processes before the cgroup they live in, a pod's
// cgroup before its netns, ...), every action runs even when an earlier one throws, and one slow
// action cannot wedge the rest (per-action timeout).
//
// The process-wide stack is drained on SIGINT/SIGTERM and on 'beforeExit'; on 'exit' (nothing
// async can run) actions that have a synchronous fallback run it. Under jest, `process` is a
// per-test-file copy whose signal listeners never fire: there afterAll + mesh.destroy() is the
// cleanup path and the sweeper (sweep.ts) removes what a killed run left behind. Long-running
// programs that own their shutdown (the local runtime) use their own CleanupStack and never
// install these hooks.
import { constants } from 'node:os';
import { CleanupError } from './errors';

export type CleanupFn = () => void | Promise<void>;

export interface CleanupOptions {
  /** Upper bound for the async action; the stack moves on and reports it. Default 20 s. */
  timeoutMs?: number;
  /** Best-effort synchronous removal for the process 'exit' path. */
  sync?: () => void;
}

export interface CleanupHandle {
  readonly label: string;
  /** Runs this action now (once; later calls return the same promise) and removes it. */
  run(): Promise<void>;
  /** Forgets the action without running it (the resource went away by itself). */
  cancel(): void;
}

interface Entry {
  label: string;
  fn: CleanupFn;
  opts: CleanupOptions;
  done?: Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 20_000;

function withTimeout(entry: Entry): Promise<void> {
  const ms = entry.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cleanup "${entry.label}" timed out after ${ms} ms`)), ms);
  });
  const action = (async () => entry.fn())().catch((err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    e.message = `cleanup "${entry.label}": ${e.message}`;
    throw e;
  });
  return Promise.race([action, timeout]).finally(() => clearTimeout(timer));
}

export class CleanupStack {
  private entries: Entry[] = [];

  get size(): number {
    return this.entries.length;
  }

  defer(label: string, fn: CleanupFn, opts: CleanupOptions = {}): CleanupHandle {
    const entry: Entry = { label, fn, opts };
    this.entries.push(entry);
    return {
      label,
      run: () => this.runEntry(entry),
      cancel: () => this.remove(entry),
    };
  }

  /** Runs every action, newest first; throws one CleanupError listing all failures. */
  async runAll(): Promise<void> {
    const errors: Error[] = [];
    // Actions may register more actions while running; keep popping until empty.
    for (let entry = this.entries.at(-1); entry !== undefined; entry = this.entries.at(-1)) {
      try {
        await this.runEntry(entry);
      } catch (err) {
        errors.push(...(err instanceof CleanupError ? (err.errors as Error[]) : [err as Error]));
      }
    }
    if (errors.length > 0) throw new CleanupError(errors);
  }

  /**
   * Synchronous fallbacks, newest first, also for actions whose async run is still in flight
   * (fallbacks are idempotent). Returns the labels it could not clean.
   */
  runAllSync(): string[] {
    const missed: string[] = [];
    for (let entry = this.entries.pop(); entry !== undefined; entry = this.entries.pop()) {
      try {
        if (entry.opts.sync === undefined) missed.push(entry.label);
        else entry.opts.sync();
      } catch (err) {
        missed.push(`${entry.label} (${(err as Error).message})`);
      }
    }
    return missed;
  }

  private runEntry(entry: Entry): Promise<void> {
    if (entry.done === undefined) {
      entry.done = withTimeout(entry).finally(() => this.remove(entry));
    }
    return entry.done;
  }

  private remove(entry: Entry): void {
    const i = this.entries.lastIndexOf(entry);
    if (i >= 0) this.entries.splice(i, 1);
  }
}

/** The process-wide stack. */
export const processCleanup = new CleanupStack();

let hooksInstalled = false;
let draining: Promise<void> | undefined;

/** Registers a process-wide cleanup action (and the signal/exit hooks, once). */
export function defer(label: string, fn: CleanupFn, opts?: CleanupOptions): CleanupHandle {
  installProcessHooks();
  return processCleanup.defer(label, fn, opts);
}

/** Runs every registered action; concurrent callers share one drain. */
export function cleanupAll(): Promise<void> {
  draining ??= processCleanup.runAll().finally(() => {
    draining = undefined;
  });
  return draining;
}

function report(err: unknown): void {
  process.stderr.write(`ambit sandbox: ${(err as Error).message ?? String(err)}\n`);
}

let signalSeen = false;

function onSignal(signal: NodeJS.Signals): void {
  const exitCode = 128 + constants.signals[signal];
  if (signalSeen) process.exit(exitCode); // a second ^C stops waiting for cleanup
  signalSeen = true;
  cleanupAll()
    .catch(report)
    .finally(() => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      // Other listeners own the shutdown; otherwise re-raise with the default action so the
      // parent sees the real cause of death, and exit 128+n should the signal be ignored.
      if (process.listenerCount(signal) > 0) return;
      process.kill(process.pid, signal);
      setTimeout(() => process.exit(exitCode), 200);
    });
}

function onBeforeExit(): void {
  if (processCleanup.size === 0 || draining !== undefined) return;
  cleanupAll().catch((err) => {
    report(err);
    process.exitCode ||= 1;
  });
}

function onExit(): void {
  const missed = processCleanup.runAllSync();
  if (missed.length > 0) {
    report(new Error(`left behind (the next run's sweeper removes them): ${missed.join(', ')}`));
  }
}

function installProcessHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('beforeExit', onBeforeExit);
  process.on('exit', onExit);
}
