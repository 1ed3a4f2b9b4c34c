/**
 * The waypoint's access log: one JSON line per request, in the spirit of Envoy's default access log
 * format and with the agent's peer field names (src.* / dst.*), so one query reads both:
 *
 *   start_time        ISO 8601 time the request arrived
 *   method, path, protocol, authority, user_agent
 *   response_code     HTTP status sent downstream (0 when none was sent)
 *   response_flags    Envoy %RESPONSE_FLAGS%, "-" when none
 *   grpc_status       gRPC requests only
 *   bytes_received    request body bytes; bytes_sent: response body bytes (Envoy's direction)
 *   duration          milliseconds from the request's arrival to the last response byte
 *   upstream_host     "ip:port" of the endpoint that answered (the last attempt's)
 *   upstream_service  destination service hostname; route_name: the route that matched
 *   attempts          upstream attempts, retries included
 *   src.addr, src.identity, src.workload, dst.service, dst.workload, dst.identity
 *   request_id        x-request-id; traceparent and trace_id when the request is traced
 *   error             { code, message } when the waypoint answered with its own error
 *   policy            "<namespace>/<name>" of the AuthorizationPolicy that decided, and
 *   decision          "allow" | "deny" when an authorization decision was made
 * Unknown values are left out rather than written as "unknown", as in the agent's log.
 * Lines go through a JsonLineSink: never blocking, never throwing, dropped and counted when the
 * stream cannot take them.
 */
import { UNKNOWN } from '../../common/telemetry/workload-labels';
import { createJsonLineSink, type JsonLineSinkStats, type LineStream } from '../../common/telemetry/json-line-sink';
import { headerValue, type RequestFacts } from '../pipeline/request-facts';
import type { RequestLabels } from './request-labels';

export interface RequestLogRecord {
  facts: RequestFacts;
  labels: RequestLabels;
  /** Epoch milliseconds. */
  startTime: number;
  durationMs: number;
  bytesReceived: number;
  bytesSent: number;
  upstreamHost?: string;
  routeName?: string;
  attempts?: number;
  /** The traceparent sent upstream (this request's span), when traced. */
  traceparent?: string;
  /** Pod names, when known; the log falls back to the workload / canonical service labels. */
  srcName?: string;
  dstName?: string;
  /** Set when the waypoint produced the response itself (no route, denied, timeout...). */
  error?: { code: string; message: string };
  policy?: { decision: 'allow' | 'deny'; name?: string };
}

export interface RequestAccessLog {
  log(record: RequestLogRecord): void;
  stats(): JsonLineSinkStats;
}

type Value = string | number | { code: string; message: string };

const orUndefined = (v: string): string | undefined => (v === UNKNOWN || v === '' ? undefined : v);

function set(fields: Record<string, Value>, key: string, value: Value | undefined): void {
  if (value !== undefined) fields[key] = value;
}

/** The log line's fields for one request (exported for tests and the admin dashboard). */
export function requestLogFields(r: RequestLogRecord): Record<string, Value> {
  const l = r.labels;
  const f = r.facts;
  const mtls = l.connection_security_policy === 'mutual_tls';
  const fields: Record<string, Value> = {
    start_time: new Date(r.startTime).toISOString(),
    method: f.method,
    path: f.path,
    protocol: f.protocol,
    response_code: Number(l.response_code),
    response_flags: l.response_flags,
  };
  if (l.request_protocol === 'grpc') set(fields, 'grpc_status', Number(l.grpc_response_status));
  fields.bytes_received = r.bytesReceived;
  fields.bytes_sent = r.bytesSent;
  fields.duration = Math.round(r.durationMs * 1000) / 1000;
  set(fields, 'upstream_host', r.upstreamHost);
  set(fields, 'upstream_service', orUndefined(l.destination_service));
  set(fields, 'route_name', r.routeName);
  set(fields, 'attempts', r.attempts);
  const src = f.source;
  fields['src.addr'] = src.address.includes(':') ? `[${src.address}]:${src.port}` : `${src.address}:${src.port}`;
  set(fields, 'src.identity', mtls ? orUndefined(l.source_principal) : undefined);
  set(fields, 'src.workload', r.srcName ?? orUndefined(l.source_workload) ?? orUndefined(l.source_canonical_service));
  set(fields, 'dst.service', orUndefined(l.destination_service));
  set(
    fields,
    'dst.workload',
    r.dstName ?? orUndefined(l.destination_workload) ?? orUndefined(l.destination_canonical_service),
  );
  set(fields, 'dst.identity', mtls ? orUndefined(l.destination_principal) : undefined);
  set(fields, 'authority', f.host || undefined);
  set(fields, 'user_agent', headerValue(f.headers, 'user-agent'));
  set(fields, 'request_id', headerValue(f.headers, 'x-request-id'));
  if (r.traceparent !== undefined) {
    fields.traceparent = r.traceparent;
    fields.trace_id = r.traceparent.slice(3, 35);
  }
  set(fields, 'error', r.error);
  if (r.policy !== undefined) {
    set(fields, 'policy', r.policy.name);
    fields.decision = r.policy.decision;
  }
  return fields;
}

/** An access log writing to `stream` (asynchronous stdout by default). */
export function createRequestAccessLog(stream?: LineStream): RequestAccessLog {
  const sink = createJsonLineSink(stream);
  return {
    log(record) {
      let fields: Record<string, Value>;
      try {
        fields = requestLogFields(record);
      } catch {
        return; // e.g. an invalid start time: a log line is never worth failing the request
      }
      sink.write(fields);
    },
    stats: () => sink.stats(),
  };
}
