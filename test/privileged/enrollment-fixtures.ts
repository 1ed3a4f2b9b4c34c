// Shared by the enrollment tests: a handler that records what the server asked of it, a logger whose
// lines the test can read, pods, fd accounting, and child Node processes running the TypeScript
// sources (to be another user, or an agent that dies).
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { EnrollmentHandler } from '../../agent/enrollment/enrollment-server';
import type { PodInfo } from '../../common/enrollment/protocol';
import { createLogger, type Logger } from '../../common/log';

export const ROOT = path.resolve(__dirname, '..', '..');
const REGISTER = path.join(ROOT, 'test', 'fixtures', 'ts-register.js');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function pod(uid: string, extra: Partial<PodInfo> = {}): PodInfo {
  return {
    uid,
    name: `pod-${uid}`,
    namespace: 'default',
    serviceAccount: 'default',
    cgroupPath: `/sys/fs/cgroup/ambit-test/${uid}`,
    ips: ['10.0.0.1', 'fd00::1'],
    ...extra,
  };
}

/** Records every call; add can be slowed down, held at a gate, or made to fail. */
export class RecordingHandler implements EnrollmentHandler {
  readonly pods = new Map<string, PodInfo>();
  readonly events: string[] = [];
  readonly snapshots: string[][] = [];
  /** dev:ino of each netns fd add received, and how many fds referred to it during the call. */
  readonly netns: Array<{ id: string; openDuringAdd: number }> = [];
  addDelayMs = 0;
  addGate: Promise<void> | undefined;
  addError: Error | undefined;

  async add(p: PodInfo, netnsFd: number): Promise<void> {
    this.events.push(`add-start ${p.uid}`);
    const st = fs.fstatSync(netnsFd);
    this.netns.push({ id: `${st.dev}:${st.ino}`, openDuringAdd: fdsReferringTo('/proc/self/ns/net') });
    if (this.addDelayMs > 0) await sleep(this.addDelayMs);
    if (this.addGate) await this.addGate;
    if (this.addError) throw this.addError;
    this.pods.set(p.uid, p);
    this.events.push(`add-done ${p.uid}`);
  }

  async del(uid: string): Promise<void> {
    this.events.push(`del ${uid}`);
    this.pods.delete(uid);
  }

  async snapshotDone(kept: ReadonlySet<string>): Promise<void> {
    this.snapshots.push([...kept].sort());
    for (const uid of [...this.pods.keys()]) {
      if (!kept.has(uid)) {
        this.pods.delete(uid);
        this.events.push(`removed ${uid}`);
      }
    }
  }
}

/** A debug-level logger whose JSON lines land in `lines`. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('agent', { level: 'debug', destination }), lines };
}

/** How many of this process's fds refer to `file`'s inode (for a netns: /proc/self/ns/net). */
export function fdsReferringTo(file: string): number {
  const want = fs.statSync(file);
  let n = 0;
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      const st = fs.fstatSync(Number(name));
      if (st.dev === want.dev && st.ino === want.ino) n++;
    } catch {
      // the directory fd readdir used, already closed
    }
  }
  return n;
}

/** A temporary directory other users can traverse (mkdtemp makes it 0700). */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export interface Child {
  proc: ChildProcess;
  /** Resolves with the first stdout line. */
  firstLine: Promise<string>;
  /** Resolves with everything printed when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Runs `script` (CommonJS, may require .ts files) in a child Node process; ROOT is its directory. */
export function runScript(script: string, timeoutMs = 20_000): Child {
  const proc = spawn(process.execPath, ['-r', REGISTER, '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onLine!: (l: string) => void;
  const firstLine = new Promise<string>((resolve) => (onLine = resolve));
  proc.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    const nl = stdout.indexOf('\n');
    if (nl >= 0) onLine(stdout.slice(0, nl));
  });
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) =>
      proc.once('close', (code, signal) => {
        clearTimeout(timer);
        onLine('');
        resolve({ code, signal, stdout, stderr });
      }),
  );
  return { proc, firstLine, exited };
}
