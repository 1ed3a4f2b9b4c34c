// Running the system tools the sandbox drives (ip, mount, sysctl through `ip netns exec`).
// Tool failures become one typed error carrying the command line and its stderr.
import { execFile, execFileSync } from 'node:child_process';
import { SandboxCommandError } from './errors';

export interface RunOptions {
  timeoutMs?: number;
  /** Written to the command's stdin. */
  input?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Runs `cmd args...` on the host, resolving with stdout; rejects with SandboxCommandError. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const line = [cmd, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      // execFile kills the child by pid (SIGKILL) on timeout; it never outlives the call.
      { timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err === null) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
        const reason = e.killed
          ? `timed out after ${opts.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`
          : typeof e.code === 'number'
            ? `exited with code ${e.code}`
            : `failed (${String(e.code ?? e.message)})`;
        reject(new SandboxCommandError(line, typeof e.code === 'number' ? e.code : null, stderr, reason));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Synchronous variant, for the process 'exit' path where nothing async runs any more. */
export function runSync(cmd: string, args: readonly string[], timeoutMs = DEFAULT_TIMEOUT_MS): string {
  try {
    return execFileSync(cmd, args, {
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { status?: number | null; stderr?: string; message: string };
    throw new SandboxCommandError([cmd, ...args].join(' '), e.status ?? null, e.stderr ?? '', 'failed');
  }
}

/** `ip -n NETNS args...`: iproute2 acting inside a named network namespace. */
export function ipIn(netns: string, args: readonly string[]): Promise<string> {
  return run('ip', ['-n', netns, ...args]);
}
