// Running processes inside a pod (or node): the right network namespace AND the right cgroup from
// the process's very first instruction. cgroup-bpf capture keys on the cgroup, so a process that
// starts elsewhere and is moved later could leak its first connect() past the mesh.
import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import { CleanupStack } from './cleanup';
import { ExecTimeoutError } from './errors';

/** Where a process runs. */
export interface Placement {
  readonly netnsPath: string;
  readonly cgroupPath: string;
}

/**
 * Node's spawn options, minus the ones that would change what runs. `detached: true` gives the
 * process its own session and process group (the local runtime's containers: a restart or stop
 * signals the whole group, i.e. everything the container forked, by the pid we started).
 */
export type SpawnInOptions = Omit<SpawnOptions, 'shell' | 'argv0'>;

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
  opts: SpawnInOptions = {},
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
      if (timedOut) reject(new ExecTimeoutError([cmd, ...args].join(' '), timeoutMs, stdout, stderr));
      else resolve({ code, signal, stdout, stderr });
    });
  });
}
