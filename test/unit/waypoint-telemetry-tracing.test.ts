// W3C trace context: traceparent parsing (https://www.w3.org/TR/trace-context/#traceparent-header)
// and propagation from the client's span through the waypoint's spans to the upstream.
import {
  formatTraceparent,
  parseTraceparent,
  spanStatusForHttp,
  startSpan,
} from '../../waypoint/telemetry/tracing';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  it('reads a valid version 00 header, sampled or not', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.sampled).toBe(false);
    // Only bit 0 of the flags is "sampled"; other bits are ignored.
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.sampled).toBe(true);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-02`)?.sampled).toBe(false);
    expect(parseTraceparent(` 00-${TRACE}-${SPAN}-01 `)?.traceId).toBe(TRACE);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['too short', `00-${TRACE}-${SPAN}-0`],
    ['extra data on version 00', `00-${TRACE}-${SPAN}-01-extra`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['non-hex version', `0g-${TRACE}-${SPAN}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['non-hex trace id', `00-${TRACE.slice(0, 31)}z-${SPAN}-01`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}0-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['non-hex flags', `00-${TRACE}-${SPAN}-0x`],
    ['wrong separators', `00_${TRACE}_${SPAN}_01`],
  ])('rejects %s', (_what, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it('accepts a later version with extra fields, reading only the known ones', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-what-comes-next`)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      sampled: true,
    });
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01x`)).toBeUndefined();
  });
});

describe('spans', () => {
  it('continues the client trace and names itself as the upstream parent', () => {
    const parent = parseTraceparent(`00-${TRACE}-${SPAN}-01`)!;
    const server = startSpan(parent, 'reviews.bookinfo.svc.cluster.local:9080/*', 'SERVER', 1_000n);
    expect(server.traceId).toBe(TRACE);
    expect(server.parentSpanId).toBe(SPAN);
    expect(server.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(server.spanId).not.toBe(SPAN);

    const client = startSpan(server, 'upstream', 'CLIENT', 1_100n);
    expect(client.parentSpanId).toBe(server.spanId);
    const header = client.traceparent();
    expect(header).toBe(`00-${TRACE}-${client.spanId}-01`);
    expect(parseTraceparent(header)).toEqual({ traceId: TRACE, spanId: client.spanId, sampled: true });
  });

  it('keeps the caller’s decision not to sample', () => {
    const span = startSpan(parseTraceparent(`00-${TRACE}-${SPAN}-00`), 'x', 'SERVER');
    expect(span.sampled).toBe(false);
    expect(span.traceparent().endsWith('-00')).toBe(true);
  });

  it('starts a new sampled trace without a parent, with fresh random ids', () => {
    const a = startSpan(undefined, 'a', 'SERVER');
    const b = startSpan(undefined, 'b', 'SERVER');
    expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.traceId).not.toBe(b.traceId);
    expect(a.spanId).not.toBe(b.spanId);
    expect(a.parentSpanId).toBeUndefined();
    expect(a.sampled).toBe(true);
    expect(startSpan(undefined, 'c', 'SERVER', undefined, false).sampled).toBe(false);
  });

  it('generates many distinct ids across pool refills', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) ids.add(startSpan(undefined, 'n', 'CLIENT').spanId);
    expect(ids.size).toBe(2000);
  });

  it('ends once with attributes, status and times', () => {
    const span = startSpan(undefined, 'n', 'SERVER', 5_000n);
    span.setAttribute('http.request.method', 'GET').setAttribute('http.response.status_code', 503);
    const done = span.end('ERROR', 9_000n);
    expect(done).toMatchObject({ name: 'n', kind: 'SERVER', status: 'ERROR', startTimeUnixNano: 5_000n, endTimeUnixNano: 9_000n });
    expect([...done.attributes]).toEqual([
      ['http.request.method', 'GET'],
      ['http.response.status_code', 503],
    ]);
    expect(span.end('OK', 10_000n)).toBe(done);
  });

  it('uses the wall clock in nanoseconds by default and never ends before it starts', () => {
    const span = startSpan(undefined, 'n', 'SERVER');
    const ms = Number(span.startTimeUnixNano / 1_000_000n);
    expect(Math.abs(ms - Date.now())).toBeLessThan(1000);
    expect(span.end('UNSET', 0n).endTimeUnixNano).toBe(span.startTimeUnixNano);
  });

  it('formats a context and maps HTTP status to span status per OpenTelemetry', () => {
    expect(formatTraceparent({ traceId: TRACE, spanId: SPAN, sampled: false })).toBe(`00-${TRACE}-${SPAN}-00`);
    expect([200, 404, 500, 0].map((c) => spanStatusForHttp(c, 'SERVER'))).toEqual(['UNSET', 'UNSET', 'ERROR', 'ERROR']);
    expect([200, 404, 503].map((c) => spanStatusForHttp(c, 'CLIENT'))).toEqual(['UNSET', 'ERROR', 'ERROR']);
  });
});
