// How the background runtime tells the `ambit local up` that started it how start-up goes: JSON
// lines on an inherited pipe (fd 3), one per progress step, then "up" or "failed". The parent may
// go away at any time (it returns once the runtime is up, or on Ctrl-C): a write to a closed pipe
// just ends the reporting, never the runtime.
import fs from 'node:fs';

export type ProgressMessage = { type: 'progress'; line: string } | { type: 'up' } | { type: 'failed'; message: string };

export class ProgressChannel {
  private open = true;

  constructor(private readonly fd: number) {}

  send(msg: ProgressMessage): void {
    if (!this.open) return;
    try {
      fs.writeSync(this.fd, `${JSON.stringify(msg)}\n`);
    } catch {
      this.open = false; // EPIPE: the parent is gone
    }
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

/** Splits a stream of JSON lines into messages; ignores lines that are not messages. */
export function parseProgress(chunk: string, carry: { rest: string }): ProgressMessage[] {
  const lines = (carry.rest + chunk).split('\n');
  carry.rest = lines.pop() ?? '';
  const out: ProgressMessage[] = [];
  for (const line of lines) {
    try {
      const msg = JSON.parse(line) as ProgressMessage;
      if (msg !== null && typeof msg === 'object' && typeof msg.type === 'string') out.push(msg);
    } catch {
      // not ours
    }
  }
  return out;
}
