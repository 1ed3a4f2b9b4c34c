/**
 * Copies bytes both ways between two duplexes (TCP socket, HTTP/2 stream, or any Duplex) the way
 * a TCP proxy must:
 *  - backpressure: a side is paused while the other's write buffer is full;
 *  - half-close: one side's FIN / END_STREAM becomes end() on the other, and the opposite
 *    direction keeps flowing until it ends too;
 *  - resets cross over: a TCP error (ECONNRESET...) resets the HTTP/2 stream with CONNECT_ERROR
 *    (RFC 9113 §8.5), and a stream reset becomes a TCP RST (SO_LINGER 0), so neither end mistakes
 *    an abort for a clean end of data;
 *  - a graceful close loses no byte: end() is only called once everything read was written.
 * Sockets must be created with allowHalfOpen (or before any data is read); the relay also sets it,
 * so a FIN does not make Node end the other direction on its own.
 */
import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { HboneError, HboneErrorCodes } from './errors';

export type RelaySide = 'a' | 'b';

export interface RelayResult {
  /** Bytes read from a and written to b. */
  readonly bytesAToB: number;
  /** Bytes read from b and written to a. */
  readonly bytesBToA: number;
  /** The side that finished first: sent FIN / END_STREAM, failed, or was reset. */
  readonly firstClosed: RelaySide;
  /** Why the relay stopped early (a reset, error or premature close); undefined after two clean ends. */
  readonly error?: Error;
  /** The side the error came from. */
  readonly errorSide?: RelaySide;
  readonly durationMs: number;
}

const { NGHTTP2_CONNECT_ERROR, NGHTTP2_NO_ERROR } = http2.constants;

/** Resolves (never rejects) once both directions ended, or at the first error or reset. */
export function relay(a: Duplex, b: Duplex): Promise<RelayResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const bytes = { a: 0, b: 0 };
    const readEnded = { a: false, b: false };
    const writeFinished = { a: false, b: false };
    const streams = { a, b };
    let firstClosed: RelaySide | undefined;
    let settled = false;

    const settle = (error?: Error, errorSide?: RelaySide): void => {
      if (settled) return;
      settled = true;
      resolve({
        bytesAToB: bytes.a,
        bytesBToA: bytes.b,
        firstClosed: firstClosed ?? errorSide ?? 'a',
        error,
        errorSide,
        durationMs: performance.now() - started,
      });
    };

    const fail = (side: RelaySide, err: Error): void => {
      if (settled) return;
      firstClosed ??= side;
      // Reset the other side first, so the abort is visible there even if ours is already gone.
      reset(streams[other(side)]);
      reset(streams[side]);
      settle(err, side);
    };

    const maybeDone = (): void => {
      if (readEnded.a && writeFinished.b && readEnded.b && writeFinished.a) settle();
    };

    /** src's data is all written: pass its end on to the other side. */
    const onEnd = (side: RelaySide): void => {
      if (readEnded[side] || settled) return;
      readEnded[side] = true;
      firstClosed ??= side;
      streams[other(side)].end();
      // The other side may have finished writing before this FIN came: Node ends an HTTP/2
      // stream's writable side itself when the peer closes the stream (RST_STREAM NO_ERROR, e.g.
      // a waypoint dropping an idle keep-alive tunnel), and the app answers our FIN with its own.
      // Then this read end is the last event; without this check the relay never resolved and
      // the agent's connection-table entry leaked, holding pod removal and drain to the deadline.
      maybeDone();
    };

    // Node ends a stream's readable side on RST_STREAM too, and sets rstCode and emits
    // 'aborted'/'error' only afterwards (still while handling that frame). So an HTTP/2 'end' is
    // judged after I/O, or at 'close' if that comes first, when rstCode is final: a reset must
    // never be passed on as a clean FIN.
    const endSeen = { a: false, b: false };
    const judgeStreamEnd = (side: RelaySide): void => {
      const src = streams[side] as http2.Http2Stream;
      if (settled || readEnded[side]) return;
      if (src.rstCode !== undefined && src.rstCode !== NGHTTP2_NO_ERROR) fail(side, prematureClose(side, src));
      else onEnd(side);
    };

    const pump = (side: RelaySide): void => {
      const src = streams[side];
      const dst = streams[other(side)];
      src.on('data', (chunk: Buffer | string) => {
        bytes[side] += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        if (!dst.write(chunk)) src.pause();
      });
      dst.on('drain', () => src.resume());
      src.on('end', () => {
        if (!isHttp2Stream(src)) return onEnd(side);
        endSeen[side] = true;
        setImmediate(() => judgeStreamEnd(side));
      });
      dst.on('finish', () => {
        writeFinished[other(side)] = true;
        maybeDone();
      });
      if (src.readableEnded) onEnd(side);
      // A caller may have paused it (pauseOnConnect, or while the tunnel opened); a 'data'
      // listener alone does not restart an explicitly paused stream.
      else src.resume();
    };

    for (const side of ['a', 'b'] as const) {
      const s = streams[side];
      // A FIN must not end our writable side: the other direction may still be sending.
      s.allowHalfOpen = true;
      s.on('error', (err: Error) => fail(side, err));
      s.on('close', () => {
        if (endSeen[side]) judgeStreamEnd(side);
        // A stream can close cleanly (both END_STREAMs sent) before its 'finish' event, which
        // then never comes. Closed with NO_ERROR after our end() means our data went out.
        if (isHttp2Stream(s) && s.rstCode === NGHTTP2_NO_ERROR && readEnded[other(side)] && !writeFinished[side]) {
          writeFinished[side] = true;
          maybeDone();
        }
        if (settled) return;
        // This side is done both ways; the relay is done once the other side is too.
        if (readEnded[side] && writeFinished[side]) return maybeDone();
        fail(side, prematureClose(side, s));
      });
    }
    if (a.destroyed || b.destroyed) {
      const side: RelaySide = a.destroyed ? 'a' : 'b';
      fail(side, prematureClose(side, streams[side]));
      return;
    }
    pump('a');
    pump('b');
  });
}

function other(side: RelaySide): RelaySide {
  return side === 'a' ? 'b' : 'a';
}

function isHttp2Stream(d: Duplex): d is http2.Http2Stream {
  return 'rstCode' in d && typeof (d as http2.Http2Stream).close === 'function' && 'session' in d;
}

/** Aborts `d` so its peer sees an abort, not an end of data. */
function reset(d: Duplex): void {
  if (isHttp2Stream(d)) {
    if (!d.closed && !d.destroyed) d.close(NGHTTP2_CONNECT_ERROR);
    return;
  }
  if (d.destroyed) return;
  // resetAndDestroy needs a TCP handle (a TLS socket can only be closed), and libuv refuses it
  // once our FIN went out; closing then still makes the kernel answer further data with RST.
  if (d instanceof net.Socket && !(d instanceof tls.TLSSocket) && !d.writableEnded) {
    try {
      d.resetAndDestroy();
      return;
    } catch {
      // Fall through: not a TCP handle after all.
    }
  }
  d.destroy();
}

function prematureClose(side: RelaySide, d: Duplex): Error {
  if (isHttp2Stream(d) && d.rstCode !== undefined && d.rstCode !== NGHTTP2_NO_ERROR) {
    return new HboneError(HboneErrorCodes.RESET, `side ${side}: the HTTP/2 stream was reset (code ${d.rstCode})`);
  }
  return new HboneError(HboneErrorCodes.RESET, `side ${side}: closed before ending its data`);
}
