// Running processes inside a pod (or node): the right network namespace AND the right cgroup from
// the process's very first instruction. cgroup-bpf capture keys on the cgroup, so a process that
// starts elsewhere and is moved later could leak its first connect() past the mesh.
import { ChildProcess, spawn, SpawnOptions } from 'child_process';
import { CleanupStack } from './cleanup';

/** Where a process runs. */
export interface Placement {
  readonly netnsPath: string;
  readonly cgroupPath: string;
}

export type PodSpawnOptions = Omit<SpawnOptions, 'shell' | 'detached' | 'argv0'>;

export interface ExecOptions {
  /** Kill (SIGKILL by pid) and reject after this long. Default 10 s. */
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class PodExecTimeoutError extends Error {
  readonly code = 'AMBIT_ERR_HARNESS_EXEC_TIMEOUT';
  constructor(
    command: string,
    timeoutMs: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`\`${command}\` did not exit within ${timeoutMs} ms and was killed; stderr: ${stderr.trim() || '(empty)'}`);
    this.name = 'PodExecTimeoutError';
  }
}

// The shell joins the cgroup, then execs nsenter, which setns()es and execs the command: the pid
// never changes, so ChildProcess.pid is the command's pid. If joining the cgroup fails nothing runs.
const ENTER = 'echo $$ > "$1/cgroup.procs" && ns=$2 && shift 2 && exec nsenter --net="$ns" -- "$@"';

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** SIGKILL through the ChildProcess (by its pid, never a stale one) and wait for it to be reaped. */
export function killChild(child: ChildProcess, timeoutMs = 5_000): Promise<void> {
  if (exited(child) || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pid ${child.pid} survived SIGKILL for ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGKILL');
  });
}

/**
 * Starts `cmd args...` inside `where`; killed by `cleanup` unless it exits first. For the few
 * microseconds before the wrapper execs, the pid is `sh` in the caller's cgroup and netns; it
 * makes no connection there, and `cmd` itself starts in place.
 */
export function spawnIn(
  where: Placement,
  cleanup: CleanupStack,
  cmd: string,
  args: readonly string[] = [],
  opts: PodSpawnOptions = {},
): ChildProcess {
  const child = spawn('sh', ['-c', ENTER, 'sh', where.cgroupPath, where.netnsPath, cmd, ...args], opts);
  if (child.pid !== undefined) {
    const handle = cleanup.defer(`process ${child.pid} (${cmd})`, () => killChild(child), {
      sync: () => void (exited(child) || child.kill('SIGKILL')),
    });
    child.once('exit', () => handle.cancel());
  }
  return child;
}

/** Runs `cmd args...` inside `where` to completion, collecting its output. */
export function execIn(
  where: Placement,
  cleanup: CleanupStack,
  cmd: string,
  args: readonly string[] = [],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const child = spawnIn(where, cleanup, cmd, args, {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin?.on('error', () => {}); // EPIPE when the command does not read its input
    child.stdin?.end(opts.input ?? '');
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killChild(child).catch(() => {});
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close' rather than 'exit': all output has been read by then.
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      if (timedOut) reject(new PodExecTimeoutError([cmd, ...args].join(' '), timeoutMs, stdout, stderr));
      else resolve({ code, signal, stdout, stderr });
    });
  });
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
