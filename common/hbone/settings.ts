/**
 * Defaults and checks for HBONE's HTTP/2 knobs. Windows are sized in MiB, as ztunnel does: with
 * HTTP/2's 64 KiB default a single tunnel cannot fill even a LAN link (one window per round trip).
 */
import { HboneError, HboneErrorCodes } from './errors';

export const MiB = 1024 * 1024;

export const HBONE_DEFAULTS = Object.freeze({
  maxStreamsPerConnection: 100,
  idleTimeoutMs: 30_000,
  connectTimeoutMs: 5_000,
  streamWindowBytes: 4 * MiB,
  connectionWindowBytes: 16 * MiB,
  /** Tunnel headers are a handful of short values; 16 KiB leaves room for a large baggage. */
  maxHeaderListBytes: 16 * 1024,
  handshakeTimeoutMs: 10_000,
  maxResetsPerSecond: 100,
});

/** RFC 9113 §6.5.2: window sizes are at most 2^31-1. */
const MAX_WINDOW = 2 ** 31 - 1;

/**
 * Node's per-session memory cap (MB; default 10) counts buffered DATA, so it must exceed the
 * connection window or a full window alone would trip it (and the session would refuse streams).
 */
export function sessionMemoryMb(connectionWindowBytes: number): number {
  return Math.max(10, 2 * Math.ceil(connectionWindowBytes / MiB) + 16);
}

/** Returns `value` (or `fallback` when undefined) after checking it is an integer in range. */
export function intOption(name: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new HboneError(HboneErrorCodes.INVALID_OPTION, `${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return v;
}

export function windowOption(name: string, value: number | undefined, fallback: number): number {
  return intOption(name, value, fallback, 65_535, MAX_WINDOW);
}
