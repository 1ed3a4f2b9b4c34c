/**
 * The agent's access log: one JSON line per connection when it ends, through pino, with a stable
 * `msg` of "connection complete" (ztunnel's). Field names follow ztunnel's access log, so queries
 * written for ztunnel work on Ambit:
 *
 *   start_time      ISO 8601 time the connection was accepted
 *   duration_ms     milliseconds from accept to close
 *   direction       "outbound" (reported by the source's agent) | "inbound" (the destination's)
 *   src.addr        client "ip:port"
 *   src.workload    source pod name, else its workload, else its canonical service
 *   src.namespace   source namespace
 *   src.identity    source SPIFFE ID, only when the connection was mutual TLS (verified)
 *   dst.addr        original destination "ip:port" (a service VIP or a pod address)
 *   dst.hbone_addr  HBONE :authority when tunnelled
 *   dst.service     destination service hostname
 *   dst.workload    destination pod name, else its workload, else its canonical service
 *   dst.namespace   destination namespace
 *   dst.identity    destination SPIFFE ID, only when mutual TLS
 *   bytes_sent      bytes the local workload sent (the client's for outbound, the server's for inbound)
 *   bytes_recv      bytes the local workload received
 *   response_flags  "-", or DENY / UF / UH / NR (connection-labels.ts)
 *   policy          "<namespace>/<name>" of the AuthorizationPolicy that denied, when one did
 *   error           what went wrong, when something did
 * Unknown values are left out rather than written as "unknown". A line is at level error when the
 * connection carried an error, warn when it ended with a response flag (e.g. DENY), info otherwise.
 */
import type { Logger } from '../../common/log';
import { UNKNOWN, type ConnectionLabels } from './connection-labels';

export const ACCESS_LOG_MESSAGE = 'connection complete';

/** Where a connection went, beyond its metric labels. */
export interface ConnectionPeers {
  /** Client "ip:port". */
  src: string;
  /** Original destination "ip:port". */
  dst: string;
  /** HBONE :authority when tunnelled. */
  hboneAddr?: string;
  /** Pod names, when known; the log falls back to workload / canonical service. */
  srcName?: string;
  dstName?: string;
}

export interface ConnectionRecord {
  labels: ConnectionLabels;
  peers: ConnectionPeers;
  startTime: number;
  durationMs: number;
  /** Client -> server bytes (Istio "received"). */
  bytesClientToServer: number;
  /** Server -> client bytes (Istio "sent"). */
  bytesServerToClient: number;
  policy?: string;
  error?: string;
}

export interface AccessLog {
  connectionComplete(record: ConnectionRecord): void;
}

const orUndefined = (v: string): string | undefined => (v === UNKNOWN ? undefined : v);

/** The log line's fields for one connection (exported for the dashboard and tests). */
export function accessLogFields(r: ConnectionRecord): Record<string, string | number> {
  const l = r.labels;
  const mtls = l.connection_security_policy === 'mutual_tls';
  const outbound = l.reporter === 'source';
  const fields: Record<string, string | number | undefined> = {
    start_time: new Date(r.startTime).toISOString(),
    duration_ms: r.durationMs,
    direction: outbound ? 'outbound' : 'inbound',
    'src.addr': orUndefined(r.peers.src),
    'src.workload': r.peers.srcName ?? orUndefined(l.source_workload) ?? orUndefined(l.source_canonical_service),
    'src.namespace': orUndefined(l.source_workload_namespace),
    'src.identity': mtls ? orUndefined(l.source_principal) : undefined,
    'dst.addr': orUndefined(r.peers.dst),
    'dst.hbone_addr': r.peers.hboneAddr,
    'dst.service': orUndefined(l.destination_service),
    'dst.workload':
      r.peers.dstName ?? orUndefined(l.destination_workload) ?? orUndefined(l.destination_canonical_service),
    'dst.namespace': orUndefined(l.destination_workload_namespace),
    'dst.identity': mtls ? orUndefined(l.destination_principal) : undefined,
    // The metrics keep Envoy's request/response direction; the log speaks for the local workload.
    bytes_sent: outbound ? r.bytesClientToServer : r.bytesServerToClient,
    bytes_recv: outbound ? r.bytesServerToClient : r.bytesClientToServer,
    response_flags: l.response_flags,
    policy: r.policy,
    error: r.error,
  };
  for (const k of Object.keys(fields)) if (fields[k] === undefined) delete fields[k];
  return fields as Record<string, string | number>;
}

/** An access log writing through `logger` (a child named "access" is made of it). */
export function createAccessLog(logger: Logger): AccessLog {
  const log = logger.child({ component: 'access' });
  return {
    connectionComplete(record) {
      const level = record.error !== undefined ? 'error' : record.labels.response_flags !== '-' ? 'warn' : 'info';
      // Building the fields is the costly part; skip it when the line would be dropped.
      if (!log.isLevelEnabled(level)) return;
      log[level](accessLogFields(record), ACCESS_LOG_MESSAGE);
    },
  };
}
