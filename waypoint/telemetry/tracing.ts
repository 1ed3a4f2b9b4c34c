/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) for the waypoint: read the client's
 * `traceparent`, open a span per request (SERVER) and per upstream attempt (CLIENT), and send the
 * upstream a `traceparent` naming our span as its parent, so traces stay whole across the mesh.
 * Finished spans go to the OTLP exporter (otlp-exporter.ts) when sampled.
 */
import { randomFillSync } from 'node:crypto';

export interface TraceContext {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** 16 lower-case hex digits, not all zero. */
  spanId: string;
  sampled: boolean;
}

export type SpanKind = 'SERVER' | 'CLIENT';
/** OTLP status codes: UNSET leaves the verdict to the backend. */
export type SpanStatus = 'UNSET' | 'OK' | 'ERROR';
export type AttributeValue = string | number | boolean;

export interface FinishedSpan {
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId?: string;
  name: string;
  kind: SpanKind;
  /** Unix epoch nanoseconds. */
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: ReadonlyMap<string, AttributeValue>;
  status: SpanStatus;
  sampled: boolean;
}

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * The trace context in a traceparent header, or undefined when it is absent or invalid (the spec
 * says to start a new trace then). Version 00 is exactly 55 characters; a later version may append
 * "-"-separated fields, which we ignore; version ff is forbidden. Hex must be lower case.
 */
export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v.length < 55 || v[2] !== '-' || v[35] !== '-' || v[52] !== '-') return undefined;
  const version = v.slice(0, 2);
  if (!HEX.test(version) || version === 'ff') return undefined;
  if (version === '00' ? v.length !== 55 : v.length > 55 && v[55] !== '-') return undefined;
  const traceId = v.slice(3, 35);
  const spanId = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
}

// Ids come from one random pool refilled 4 KiB at a time: one crypto call per ~170 requests
// instead of two per request.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomHex(bytes: number, zero: string): string {
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (hex !== zero) return hex; // an all-zero id is invalid (and a 2^-64 event)
  }
}

export const newTraceId = (): string => randomHex(16, ZERO_TRACE);
export const newSpanId = (): string => randomHex(8, ZERO_SPAN);

// Wall clock at start-up plus the monotonic clock since: nanosecond spans that never run backwards.
const originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Now, in Unix epoch nanoseconds. */
export function nowUnixNano(): bigint {
  return originNs + process.hrtime.bigint();
}

export class Span implements TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly sampled: boolean;
  readonly attributes = new Map<string, AttributeValue>();
  private finished: FinishedSpan | undefined;

  constructor(
    readonly name: string,
    readonly kind: SpanKind,
    parent: TraceContext | undefined,
    readonly startTimeUnixNano: bigint,
    sampleRoot: boolean,
  ) {
    this.traceId = parent?.traceId ?? newTraceId();
    this.spanId = newSpanId();
    this.parentSpanId = parent?.spanId;
    // The parent's decision is followed (ParentBased sampling); a new trace takes sampleRoot.
    this.sampled = parent !== undefined ? parent.sampled : sampleRoot;
  }

  setAttribute(key: string, value: AttributeValue): this {
    this.attributes.set(key, value);
    return this;
  }

  /** The header to send upstream: this span as the parent. */
  traceparent(): string {
    return formatTraceparent(this);
  }

  /** Ends the span once; later calls return the first result. */
  end(status: SpanStatus = 'UNSET', now: bigint = nowUnixNano()): FinishedSpan {
    this.finished ??= {
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: this.parentSpanId,
      name: this.name,
      kind: this.kind,
      startTimeUnixNano: this.startTimeUnixNano,
      endTimeUnixNano: now < this.startTimeUnixNano ? this.startTimeUnixNano : now,
      attributes: this.attributes,
      status,
      sampled: this.sampled,
    };
    return this.finished;
  }
}

/** A new span under `parent` (a parsed traceparent or another span), or a new trace's root. */
export function startSpan(
  parent: TraceContext | undefined,
  name: string,
  kind: SpanKind,
  now: bigint = nowUnixNano(),
  sampleRoot = true,
): Span {
  return new Span(name, kind, parent, now, sampleRoot);
}

/**
 * Span status for an HTTP response (OpenTelemetry HTTP semantic conventions): 5xx is an error on
 * both sides; 4xx is the client's error, so only a CLIENT span records it; 0 (no response) is an error.
 */
export function spanStatusForHttp(code: number, kind: SpanKind): SpanStatus {
  if (code === 0 || code >= 500) return 'ERROR';
  if (code >= 400 && kind === 'CLIENT') return 'ERROR';
  return 'UNSET';
}
