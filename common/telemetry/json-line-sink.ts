/**
 * Writes one JSON object per line to a stream without ever blocking or throwing into the caller:
 * the access logs sit on the request path, where a slow or broken log consumer must cost a dropped
 * line, never a stalled or failed request.
 *
 * - The default destination is stdout through pino's SonicBoom (the agent's log writer), opened
 *   asynchronous so a full pipe never blocks the event loop, and bounded (maxLength) so a stalled
 *   reader cannot grow memory without limit; past the bound SonicBoom drops.
 * - A caller's Node Writable buffers when its consumer is slow; past `maxPendingBytes` lines are
 *   dropped and counted instead of queued.
 * - After the stream ends, is destroyed or reports an error, every line is dropped and counted.
 */
import pino from 'pino';

/** The part of a writable stream the sink uses (Node Writable and SonicBoom both fit). */
export interface LineStream {
  write(chunk: string): boolean;
  on(event: 'error', listener: (err: Error) => void): unknown;
  readonly destroyed?: boolean;
  readonly writableEnded?: boolean;
  readonly writableLength?: number;
}

export interface JsonLineSinkOptions {
  /** Buffered bytes past which lines are dropped (Node Writables); default 4 MiB. */
  maxPendingBytes?: number;
}

export interface JsonLineSinkStats {
  written: number;
  dropped: number;
}

export interface JsonLineSink {
  /** Serialises and queues one line; drops it (counted) when the stream cannot take it. */
  write(fields: object): void;
  stats(): JsonLineSinkStats;
}

export const DEFAULT_MAX_PENDING_BYTES = 4 * 1024 * 1024;

/** Asynchronous, bounded stdout (fd 1): the default access-log destination. */
export function stdoutLineStream(maxPendingBytes = DEFAULT_MAX_PENDING_BYTES): LineStream {
  return pino.destination({ fd: 1, sync: false, maxLength: maxPendingBytes });
}

export function createJsonLineSink(stream?: LineStream, opts: JsonLineSinkOptions = {}): JsonLineSink {
  const maxPending = opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
  const out = stream ?? stdoutLineStream(maxPending);
  let broken = false;
  let written = 0;
  let dropped = 0;
  // An unhandled 'error' (EPIPE, write after end) would crash the process; a log is never worth that.
  out.on('error', () => {
    broken = true;
  });

  return {
    write(fields) {
      if (broken || out.destroyed === true || out.writableEnded === true) {
        dropped++;
        return;
      }
      if (out.writableLength !== undefined && out.writableLength > maxPending) {
        dropped++;
        return;
      }
      try {
        out.write(`${JSON.stringify(fields)}\n`);
        written++;
      } catch {
        // SonicBoom throws once destroyed; JSON.stringify throws on cycles or BigInt.
        dropped++;
      }
    },
    stats: () => ({ written, dropped }),
  };
}
