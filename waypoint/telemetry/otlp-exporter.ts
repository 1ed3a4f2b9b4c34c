/**
 * Sends finished, sampled spans to an OpenTelemetry collector over OTLP/HTTP with the JSON encoding
 * (https://opentelemetry.io/docs/specs/otlp/#otlphttp): POST <endpoint> with Content-Type
 * application/json and an ExportTraceServiceRequest body. In OTLP JSON, trace and span ids are hex
 * strings (not base64), enums are numbers and 64-bit integers are decimal strings.
 *
 * Tracing must never hurt the requests it describes: export() only queues (bounded; a full queue
 * drops and counts), batches leave on size or on an interval, one POST is in flight at a time, and
 * a failed POST is counted and logged at most once a minute, never thrown.
 */
import http from 'node:http';
import https from 'node:https';
import { AmbitError, ErrorCodes } from '../../common/errors';
import { silentLogger, type Logger } from '../../common/log';
import type { AttributeValue, FinishedSpan, SpanKind, SpanStatus } from './tracing';

export interface OtlpExporterOptions {
  /** e.g. http://collector:4318/v1/traces */
  endpoint: string;
  serviceName: string;
  /** Spans per POST; default 512 (the OpenTelemetry SDK's). */
  maxBatch?: number;
  /** Longest a span waits before its batch is sent; default 5000 ms. */
  flushIntervalMs?: number;
  /** Spans held before new ones are dropped; default 2048. */
  maxQueue?: number;
  /** Per POST; default 10000 ms. */
  timeoutMs?: number;
  logger?: Logger;
}

export interface OtlpExporterStats {
  /** Spans the collector accepted (2xx). */
  exported: number;
  /** Spans dropped because the queue was full or the exporter closed. */
  dropped: number;
  /** Spans in POSTs that failed (connection error, timeout, non-2xx). */
  failed: number;
}

const KIND: Record<SpanKind, number> = { SERVER: 2, CLIENT: 3 };
const STATUS: Record<SpanStatus, number> = { UNSET: 0, OK: 1, ERROR: 2 };
const SCOPE = { name: 'ambit-waypoint' };
const LOG_EVERY_MS = 60_000;

function attributeValue(v: AttributeValue): Record<string, unknown> {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
}

/** One span in OTLP JSON form. */
export function otlpSpan(s: FinishedSpan): Record<string, unknown> {
  const attributes: Array<{ key: string; value: Record<string, unknown> }> = [];
  for (const [key, value] of s.attributes) attributes.push({ key, value: attributeValue(value) });
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId !== undefined ? { parentSpanId: s.parentSpanId } : {}),
    name: s.name,
    kind: KIND[s.kind],
    startTimeUnixNano: s.startTimeUnixNano.toString(),
    endTimeUnixNano: s.endTimeUnixNano.toString(),
    attributes,
    status: { code: STATUS[s.status] },
  };
}

/** The ExportTraceServiceRequest for a batch. */
export function otlpTraceRequest(serviceName: string, spans: readonly FinishedSpan[]): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: serviceName } }] },
        scopeSpans: [{ scope: SCOPE, spans: spans.map(otlpSpan) }],
      },
    ],
  };
}

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v <= 0) {
    throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `OTLP exporter ${name} ${v} must be a positive integer`);
  }
  return v;
}

export class OtlpExporter {
  private readonly url: URL;
  private readonly client: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly serviceName: string;
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private readonly timer: NodeJS.Timeout;
  private queue: FinishedSpan[] = [];
  private sending: Promise<void> | undefined;
  private sizeFlushScheduled = false;
  private closed: Promise<void> | undefined;
  private lastFailureLog = -Infinity;
  private readonly counts: OtlpExporterStats = { exported: 0, dropped: 0, failed: 0 };

  constructor(opts: OtlpExporterOptions) {
    try {
      this.url = new URL(opts.endpoint);
    } catch {
      throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `OTLP endpoint "${opts.endpoint}" is not a URL`);
    }
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') {
      throw new AmbitError(
        ErrorCodes.INVALID_ARGUMENT,
        `OTLP endpoint "${opts.endpoint}" must be http:// or https:// (e.g. http://collector:4318/v1/traces)`,
      );
    }
    this.serviceName = opts.serviceName;
    this.maxBatch = positive('maxBatch', opts.maxBatch, 512);
    this.maxQueue = positive('maxQueue', opts.maxQueue, 2048);
    this.timeoutMs = positive('timeoutMs', opts.timeoutMs, 10_000);
    const intervalMs = positive('flushIntervalMs', opts.flushIntervalMs, 5000);
    this.client = this.url.protocol === 'https:' ? https : http;
    this.agent = new this.client.Agent({ keepAlive: true, maxSockets: 1 });
    this.logger = (opts.logger ?? silentLogger).child({ component: 'otlp-exporter' });
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Queues a finished span; unsampled spans are ignored. Never throws, never waits. */
  export(span: FinishedSpan): void {
    if (!span.sampled) return;
    if (this.closed !== undefined || this.queue.length >= this.maxQueue) {
      this.counts.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.maxBatch && !this.sizeFlushScheduled) {
      // Off the request's stack: the POST is built after the current request's work is done.
      this.sizeFlushScheduled = true;
      setImmediate(() => {
        this.sizeFlushScheduled = false;
        void this.flush();
      });
    }
  }

  /** Sends everything queued now, in batches; resolves when done (failures are counted, not thrown). */
  flush(): Promise<void> {
    const run = async (): Promise<void> => {
      while (this.queue.length > 0) {
        const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
        this.queue = this.queue.length <= this.maxBatch ? [] : this.queue.slice(this.maxBatch);
        await this.post(batch);
      }
    };
    // One POST at a time: a later flush waits for the one in flight, then sends what is left.
    const next = (this.sending ?? Promise.resolve()).then(run);
    const tracked = next.finally(() => {
      if (this.sending === tracked) this.sending = undefined;
    });
    this.sending = tracked;
    return tracked;
  }

  /** Stops the interval, sends what is queued, releases sockets. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      clearInterval(this.timer);
      await this.flush();
      this.agent.destroy();
    })();
    return this.closed;
  }

  stats(): OtlpExporterStats {
    return { ...this.counts };
  }

  private post(batch: FinishedSpan[]): Promise<void> {
    let body: Buffer;
    try {
      body = Buffer.from(JSON.stringify(otlpTraceRequest(this.serviceName, batch)));
    } catch (err) {
      this.fail(batch.length, err);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      // Errors can follow an answer (or each other): count each batch exactly once.
      let settled = false;
      const settle = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        if (err === undefined) this.counts.exported += batch.length;
        else this.fail(batch.length, err);
        resolve();
      };
      const req = this.client.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          res.on('error', settle);
          const verdict = status >= 200 && status < 300 ? undefined : new Error(`collector answered HTTP ${status}`);
          res.on('end', () => settle(verdict));
          res.resume(); // the body (a partial-success report) is not needed; free the socket
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from the collector within ${this.timeoutMs} ms`)));
      req.on('error', settle);
      req.end(body);
    });
  }

  private fail(spans: number, err: unknown): void {
    this.counts.failed += spans;
    const now = Date.now();
    if (now - this.lastFailureLog < LOG_EVERY_MS) return;
    this.lastFailureLog = now;
    this.logger.warn(
      { err, endpoint: this.url.href, spans, failed: this.counts.failed },
      'could not export spans to the OTLP collector; is it reachable? (logged at most once a minute)',
    );
  }
}
