/**
 * Per-connection accounting: the one API the proxy stages call. `open()` when a connection is
 * accepted, `addReceived/addSent` as bytes are copied, `close()` at the end; the metrics, the access
 * log line, the diagnostics_channel events and /debug/connections all come from here.
 *
 * Counting follows ztunnel: a connection is "opened" as soon as the agent handles it, even if it is
 * then refused, so opened - closed = open now; a refused or failed one closes with its response
 * flag and also counts in istio_tcp_connections_failed_total.
 *
 * Bytes are added to the connection's own totals (a number add, no label hashing per chunk) and
 * flushed into the Prometheus counters on every scrape and at close, so long-lived connections show
 * progress on every scrape without paying for a label lookup per read.
 */
import { Diagnostics, type TrafficDirection } from '../../common/diagnostics';
import { UNKNOWN, ResponseFlags, withResponseFlags, type ConnectionLabels, type ResponseFlag } from './connection-labels';
import type { AccessLog, ConnectionPeers } from './access-log';
import type { AgentMetrics } from './metrics';

export interface ConnectionCloseOptions {
  /** What went wrong; an Error's `code` is kept in the message. */
  error?: unknown;
  /** Default "-"; anything else also counts the connection as failed. */
  responseFlags?: ResponseFlag;
  /** "<namespace>/<name>" of the AuthorizationPolicy that denied it. */
  policy?: string;
}

/** What /debug/connections shows of an open connection. */
export interface ConnectionSnapshot {
  id: string;
  direction: TrafficDirection;
  startTime: string;
  durationMs: number;
  src: string;
  dst: string;
  hboneAddr?: string;
  sourceWorkload: string;
  sourceNamespace: string;
  sourcePrincipal: string;
  destinationWorkload: string;
  destinationNamespace: string;
  destinationPrincipal: string;
  destinationService: string;
  security: string;
  bytesClientToServer: number;
  bytesServerToClient: number;
}

export interface TrackedConnection {
  readonly id: string;
  readonly labels: ConnectionLabels;
  readonly peers: ConnectionPeers;
  /** Epoch milliseconds. */
  readonly startTime: number;
  /** Bytes copied server -> client (towards the downstream): Istio's "sent". */
  addSent(bytes: number): void;
  /** Bytes copied client -> server (from the downstream): Istio's "received". */
  addReceived(bytes: number): void;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly closed: boolean;
  /** Records the end once; later calls do nothing. */
  close(opts?: ConnectionCloseOptions): void;
  snapshot(): ConnectionSnapshot;
}

export interface ConnectionTelemetry {
  open(labels: ConnectionLabels, peers: ConnectionPeers): TrackedConnection;
  /** A connection refused or failed before any byte was proxied: open + close with `flags`. */
  failed(
    labels: ConnectionLabels,
    flags: ResponseFlag,
    opts?: { peers?: ConnectionPeers; error?: unknown; policy?: string },
  ): void;
  /** Open connections, oldest first. */
  active(): ConnectionSnapshot[];
  readonly activeCount: number;
  /** Stops feeding the metrics' scrape hook; open connections still record their close. */
  close(): void;
}

export interface ConnectionTelemetryOptions {
  metrics: AgentMetrics;
  accessLog?: AccessLog;
  /** Epoch milliseconds; tests pass a fake clock. */
  now?: () => number;
}

export function errorMessage(err: unknown): string | undefined {
  if (err === undefined || err === null) return undefined;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

const directionOf = (labels: ConnectionLabels): TrafficDirection =>
  labels.reporter === 'source' ? 'outbound' : 'inbound';

const validBytes = (n: number): boolean => Number.isFinite(n) && n > 0;

export function createConnectionTelemetry(opts: ConnectionTelemetryOptions): ConnectionTelemetry {
  const { metrics, accessLog } = opts;
  const now = opts.now ?? Date.now;
  const open = new Set<Connection>();
  let nextId = 0;

  class Connection implements TrackedConnection {
    readonly id = `c${(++nextId).toString(36)}`;
    readonly startTime = now();
    readonly direction: TrafficDirection;
    bytesSent = 0;
    bytesReceived = 0;
    closed = false;
    private unflushedSent = 0;
    private unflushedReceived = 0;

    constructor(
      readonly labels: ConnectionLabels,
      readonly peers: ConnectionPeers,
    ) {
      this.direction = directionOf(labels);
    }

    addSent(bytes: number): void {
      if (!validBytes(bytes)) return;
      // Late bytes (a write finishing after close) still count in the metrics, not in the log line.
      if (this.closed) return void metrics.sentBytes.inc(this.labels, bytes);
      this.bytesSent += bytes;
      this.unflushedSent += bytes;
    }

    addReceived(bytes: number): void {
      if (!validBytes(bytes)) return;
      if (this.closed) return void metrics.receivedBytes.inc(this.labels, bytes);
      this.bytesReceived += bytes;
      this.unflushedReceived += bytes;
    }

    flush(): void {
      if (this.unflushedSent > 0) metrics.sentBytes.inc(this.labels, this.unflushedSent);
      if (this.unflushedReceived > 0) metrics.receivedBytes.inc(this.labels, this.unflushedReceived);
      this.unflushedSent = 0;
      this.unflushedReceived = 0;
    }

    close(closeOpts: ConnectionCloseOptions = {}): void {
      if (this.closed) return;
      this.closed = true;
      this.flush();
      open.delete(this);
      metrics.connectionsActive.dec({ direction: this.direction });

      const flags = closeOpts.responseFlags ?? this.labels.response_flags;
      const closedLabels = withResponseFlags(this.labels, flags);
      metrics.closed.inc(closedLabels);
      if (flags !== ResponseFlags.NONE) metrics.failed.inc(closedLabels);

      const durationMs = Math.max(0, now() - this.startTime);
      const error = errorMessage(closeOpts.error);
      accessLog?.connectionComplete({
        labels: closedLabels,
        peers: this.peers,
        startTime: this.startTime,
        durationMs,
        bytesClientToServer: this.bytesReceived,
        bytesServerToClient: this.bytesSent,
        policy: closeOpts.policy,
        error,
      });
      Diagnostics.connectionClose.publishWith(() => ({
        id: this.id,
        direction: this.direction,
        src: this.peers.src,
        dst: this.peers.dst,
        durationMs,
        bytesClientToServer: this.bytesReceived,
        bytesServerToClient: this.bytesSent,
        responseFlags: flags,
        ...(error !== undefined ? { error } : {}),
      }));
    }

    snapshot(): ConnectionSnapshot {
      const l = this.labels;
      return {
        id: this.id,
        direction: this.direction,
        startTime: new Date(this.startTime).toISOString(),
        durationMs: Math.max(0, now() - this.startTime),
        src: this.peers.src,
        dst: this.peers.dst,
        ...(this.peers.hboneAddr !== undefined ? { hboneAddr: this.peers.hboneAddr } : {}),
        sourceWorkload: this.peers.srcName ?? l.source_workload,
        sourceNamespace: l.source_workload_namespace,
        sourcePrincipal: l.source_principal,
        destinationWorkload: this.peers.dstName ?? l.destination_workload,
        destinationNamespace: l.destination_workload_namespace,
        destinationPrincipal: l.destination_principal,
        destinationService: l.destination_service,
        security: l.connection_security_policy,
        bytesClientToServer: this.bytesReceived,
        bytesServerToClient: this.bytesSent,
      };
    }
  }

  const removeFlush = metrics.onBytesCollect(() => {
    for (const c of open) c.flush();
  });

  const optional = (v: string): string | undefined => (v === UNKNOWN ? undefined : v);

  const telemetry: ConnectionTelemetry = {
    open(labels, peers) {
      const c = new Connection(labels, peers);
      open.add(c);
      metrics.opened.inc(labels);
      metrics.connectionsActive.inc({ direction: c.direction });
      Diagnostics.connectionOpen.publishWith(() => ({
        id: c.id,
        direction: c.direction,
        src: peers.src,
        dst: peers.dst,
        hboneAddr: peers.hboneAddr,
        sourceWorkload: peers.srcName ?? optional(labels.source_workload),
        sourceNamespace: optional(labels.source_workload_namespace),
        destinationWorkload: peers.dstName ?? optional(labels.destination_workload),
        destinationNamespace: optional(labels.destination_workload_namespace),
        destinationService: optional(labels.destination_service),
        startTime: c.startTime,
      }));
      return c;
    },
    failed(labels, flags, failOpts = {}) {
      const peers = failOpts.peers ?? { src: UNKNOWN, dst: UNKNOWN };
      telemetry.open(labels, peers).close({ responseFlags: flags, error: failOpts.error, policy: failOpts.policy });
    },
    active() {
      return [...open].map((c) => c.snapshot());
    },
    get activeCount() {
      return open.size;
    },
    close() {
      removeFlush();
    },
  };
  return telemetry;
}
