// `ambit local up` without --foreground: start the runtime as a detached process (its own session,
// so closing the terminal does not stop it; output to <stateDir>/runtime.log), relay its progress
// lines, and return once every pod is created and the control plane is up.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { parseProgress, type ProgressMessage } from './progress-channel';
import type { StatePaths } from './state-dir';

export interface BackgroundOptions {
  dir: string;
  paths: StatePaths;
  grpcListen: string;
  httpListen: string;
  print: (line: string) => void;
}

export interface BackgroundResult {
  ok: boolean;
  pid: number | undefined;
  /** Why it failed (the runtime's message, or how it exited). */
  error?: string;
}

/** The argv that runs this very CLI again (also when it runs through a loader, e.g. ts-jest's). */
function selfCommand(): string[] {
  return [...process.execArgv, process.argv[1]];
}

export function startInBackground(opts: BackgroundOptions): Promise<BackgroundResult> {
  fs.mkdirSync(opts.paths.dir, { recursive: true, mode: 0o700 });
  const log = fs.openSync(opts.paths.runtimeLog, 'a', 0o600);
  const args = [
    ...selfCommand(),
    'local',
    'up',
    '-f',
    opts.dir,
    '--state-dir',
    opts.paths.dir,
    '--foreground',
    '--progress-fd',
    '3',
    '--grpc-listen',
    opts.grpcListen,
    '--http-listen',
    opts.httpListen,
  ];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log, 'pipe'] });
  fs.closeSync(log);
  const pipe = child.stdio[3] as NodeJS.ReadableStream;
  return new Promise((resolve) => {
    let done = false;
    let interrupted = false;
    // Ctrl-C while starting means "never mind": stop the runtime (it removes what it made) and
    // report once it is gone.
    const abort = (): void => {
      interrupted = true;
      opts.print('interrupted: stopping the runtime');
      child.kill('SIGTERM');
    };
    process.once('SIGINT', abort);
    const finish = (r: BackgroundResult): void => {
      if (done) return;
      done = true;
      process.off('SIGINT', abort);
      (pipe as unknown as { destroy(): void }).destroy();
      child.unref();
      resolve(r);
    };
    let failure: string | undefined;
    const carry = { rest: '' };
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => {
      for (const msg of parseProgress(chunk, carry) as ProgressMessage[]) {
        if (msg.type === 'progress') opts.print(msg.line);
        else if (msg.type === 'up') finish({ ok: true, pid: child.pid });
        // The runtime removes what it made, then exits: report once it has.
        else failure = msg.message;
      }
    });
    pipe.on('error', () => {});
    child.once('exit', (code, signal) =>
      finish({
        ok: false,
        pid: child.pid,
        error: interrupted
          ? 'interrupted; the runtime stopped and removed what it had created'
          : failure ?? `the runtime exited during start-up (${signal ?? `code ${code}`}); see ${opts.paths.runtimeLog}`,
      }),
    );
    child.once('error', (err) => finish({ ok: false, pid: child.pid, error: `cannot start the runtime: ${err.message}` }));
  });
}
