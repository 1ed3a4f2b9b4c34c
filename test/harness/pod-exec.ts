// Running processes inside a pod (or node) of a test mesh: the sandbox's spawnIn/execIn
// (common/sandbox/spawn.ts), with the harness's own timeout error, plus waitForLine for tests that
// wait on a server's output.
import { ChildProcess, SpawnOptions } from 'node:child_process';
import { CleanupStack, execIn as sandboxExecIn, ExecOptions, ExecResult, ExecTimeoutError, Placement } from '../../common/sandbox';

export { killChild, spawnIn } from '../../common/sandbox';
export type { ExecOptions, ExecResult, Placement } from '../../common/sandbox';

export type PodSpawnOptions = Omit<SpawnOptions, 'shell' | 'detached' | 'argv0'>;

export class PodExecTimeoutError extends ExecTimeoutError {
  override readonly code: string = 'AMBIT_ERR_HARNESS_EXEC_TIMEOUT';
  constructor(command: string, timeoutMs: number, stdout: string, stderr: string) {
    super(command, timeoutMs, stdout, stderr);
    this.name = 'PodExecTimeoutError';
  }
}

/** Runs `cmd args...` inside `where` to completion, collecting its output. */
export async function execIn(
  where: Placement,
  cleanup: CleanupStack,
  cmd: string,
  args: readonly string[] = [],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  try {
    return await sandboxExecIn(where, cleanup, cmd, args, opts);
  } catch (err) {
    if (err instanceof ExecTimeoutError) throw new PodExecTimeoutError(err.command, err.timeoutMs, err.stdout, err.stderr);
    throw err;
  }
}

/** Every stdout line of a child, read by one persistent listener (so none are lost between waits). */
interface LineTap {
  lines: string[];
  /** Index of the first line the next waitForLine() looks at. */
  cursor: number;
  closed: boolean;
  changed: Set<() => void>;
}

const taps = new WeakMap<ChildProcess, LineTap>();

function tap(child: ChildProcess): LineTap {
  let t = taps.get(child);
  if (t !== undefined) return t;
  if (child.stdout === null) throw new Error('waitForLine needs stdio stdout: "pipe"');
  const state: LineTap = { lines: [], cursor: 0, closed: false, changed: new Set() };
  const notify = (): void => state.changed.forEach((fn) => fn());
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() as string;
    state.lines.push(...parts);
    notify();
  });
  // 'close', not 'exit': output written just before exiting is delivered first.
  child.once('close', () => {
    if (partial !== '') state.lines.push(partial);
    state.closed = true;
    notify();
  });
  taps.set(child, (t = state));
  return t;
}

/**
 * Resolves with the next stdout line matching `pattern` (lines already matched or skipped by an
 * earlier call are not looked at again); rejects when the child's output ends first or after
 * `timeoutMs`. Typical use: wait for a server's "listening" line, then for its "connection" line.
 */
export function waitForLine(child: ChildProcess, pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
  const matches = (line: string): boolean =>
    typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line);
  let t: LineTap;
  try {
    t = tap(child);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => {
    const seen = (): string => t.lines.join('\n');
    const finish = (err: Error | null, line?: string): void => {
      clearTimeout(timer);
      t.changed.delete(check);
      if (err) reject(err);
      else resolve(line as string);
    };
    function check(): void {
      for (; t.cursor < t.lines.length; t.cursor++) {
        const line = t.lines[t.cursor];
        if (matches(line)) {
          t.cursor++;
          return finish(null, line);
        }
      }
      if (t.closed) {
        const how = child.signalCode ?? child.exitCode;
        finish(new Error(`pid ${child.pid} exited (${how}) before printing ${pattern}; stdout:\n${seen()}`));
      }
    }
    const timer = setTimeout(
      () => finish(new Error(`no line matching ${pattern} from pid ${child.pid} within ${timeoutMs} ms; stdout:\n${seen()}`)),
      timeoutMs,
    );
    t.changed.add(check);
    check();
  });
}
