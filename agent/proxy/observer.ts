/**
 * How the data path reports connections (metrics, access log, diagnostics channels) without
 * knowing about any of them: one call when a connection is carried, one when it ends, one when it
 * was refused or failed before carrying anything.
 */
import type { ConnectionEntry, Direction, Peer, Transport } from './connection-table';

export interface Outcome {
  /** Istio response flags: '-' (none), DENY, UF, UH, NR, ... */
  flags: string;
  error?: Error;
  /** Deciding policy when denied. */
  policy?: string;
}

export interface FailedAttempt {
  direction: Direction;
  transport: Transport;
  source: Peer;
  destination: Peer;
  service?: string;
  /** HBONE :authority when tunnelled out. */
  hboneAddr?: string;
}

/** Where the relay reports bytes as they flow (Istio: received = client -> server). */
export interface ByteSink {
  received(n: number): void;
  sent(n: number): void;
}

export interface ConnectionObserver {
  opened(entry: ConnectionEntry): ByteSink;
  closed(entry: ConnectionEntry, outcome: Outcome): void;
  failed(attempt: FailedAttempt, outcome: Outcome): void;
}
