/**
 * The last stage of every path: copy bytes both ways between the downstream (the side that
 * connected to us) and the upstream, keep the connection table's byte counts live, and report the
 * end once. Half-close and resets propagate through common/hbone/relay.
 */
import type { Duplex } from 'node:stream';
import { relay } from '../../common/hbone/relay';
import type { ConnectionEntry, ConnectionTable } from './connection-table';
import type { ConnectionObserver } from './observer';

export interface Carried {
  entry: ConnectionEntry;
  done: Promise<void>;
}

/** Registers `entry` as open and relays until both sides are done. */
export function carry(
  table: ConnectionTable,
  observer: ConnectionObserver,
  entry: ConnectionEntry,
  downstream: Duplex,
  upstream: Duplex,
): Promise<void> {
  // Live counts; 'data' listeners ride along with the relay's own reads. The downstream is the
  // client side, so its bytes are Istio's "received" (client -> server).
  const sink = observer.opened(entry);
  downstream.on('data', (chunk: Buffer) => {
    entry.bytesReceived += chunk.length;
    sink.received(chunk.length);
  });
  upstream.on('data', (chunk: Buffer) => {
    entry.bytesSent += chunk.length;
    sink.sent(chunk.length);
  });
  return relay(downstream, upstream).then(
    (result) => {
      table.remove(entry);
      const error = closeReason.get(entry) ?? result.error;
      observer.closed(entry, { flags: deniedFlags.get(entry) ?? '-', error, policy: deniedPolicy.get(entry) });
    },
    (error: Error) => {
      table.remove(entry);
      observer.closed(entry, { flags: '-', error });
    },
  );
}

// Why an entry was closed by the agent (policy change, drain), read when its relay ends.
const closeReason = new WeakMap<ConnectionEntry, Error>();
const deniedFlags = new WeakMap<ConnectionEntry, string>();
const deniedPolicy = new WeakMap<ConnectionEntry, string>();

/** Records why the agent is closing `entry` (reported with its end). */
export function markClosed(entry: ConnectionEntry, reason: Error, flags?: string, policy?: string): void {
  closeReason.set(entry, reason);
  if (flags) deniedFlags.set(entry, flags);
  if (policy) deniedPolicy.set(entry, policy);
}

/** Abort a stream the hard way: TCP RST for sockets, RST_STREAM for HTTP/2 streams. */
export function abort(stream: Duplex): void {
  const s = stream as Duplex & { resetAndDestroy?: () => void; close?: (code?: number) => void; rstCode?: number };
  if (typeof s.resetAndDestroy === 'function' && !stream.destroyed) {
    try {
      s.resetAndDestroy();
      return;
    } catch {
      // not connected yet: fall through
    }
  }
  if (typeof s.close === 'function' && 'rstCode' in s) {
    s.close(0x8 /* NGHTTP2_CANCEL */);
    return;
  }
  stream.destroy();
}
