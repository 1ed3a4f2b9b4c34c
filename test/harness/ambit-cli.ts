// The `ambit` CLI as the end-to-end tests run it: a separate process from the TypeScript sources
// (`node -r test/fixtures/ts-register.js cli/ambit.ts ...`), so a test never exercises a stale
// dist/, with control-plane ports chosen by the kernel.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../common/project-root';

const ROOT = projectRoot();
export const TS_REGISTER = path.join(ROOT, 'test', 'fixtures', 'ts-register.js');
export const AMBIT_CLI = path.join(ROOT, 'cli', 'ambit.ts');
/** Control-plane listen flags that let the kernel pick free ports. */
export const ANY_PORTS: readonly string[] = ['--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0'];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ambit <args>`; SIGKILLed after `timeoutMs` (code -1 then). */
export function ambit(args: readonly string[], timeoutMs = 90_000, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', TS_REGISTER, AMBIT_CLI, ...args],
      { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', env: env ?? process.env },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
