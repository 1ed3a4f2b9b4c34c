// common/hbone/headers.ts and reset-limiter.ts: tunnel header helpers and the rapid-reset counter.
import type { IncomingHttpHeaders } from 'node:http2';
import { formatForwarded, headerSafeReason, newTraceparent, tunnelHeaderEntries, tunnelHeadersOf } from '../../common/hbone/headers';
import { ResetRateLimiter } from '../../common/hbone/reset-limiter';

describe('tunnel headers', () => {
  it('formats forwarded as RFC 7239 does, quoting and bracketing IPv6', () => {
    expect(formatForwarded('10.0.0.1')).toBe('for=10.0.0.1');
    expect(formatForwarded('2001:db8:cafe::17')).toBe('for="[2001:db8:cafe::17]"');
  });

  it('makes W3C traceparents with random non-zero IDs', () => {
    const a = newTraceparent();
    expect(a).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(a).not.toMatch(/^00-0{32}-|-0{16}-/);
    expect(newTraceparent(false)).toMatch(/-00$/);
    expect(newTraceparent()).not.toBe(a);
  });

  it('makes a reason header-safe: printable ASCII, at most 256 characters', () => {
    expect(headerSafeReason('connect refused\r\nset-cookie: x')).toBe('connect refused set-cookie: x');
    expect(headerSafeReason('café ☕ closed')).toBe('caf closed');
    const long = headerSafeReason('x'.repeat(1000));
    expect(long).toHaveLength(256);
    expect(long.endsWith('...')).toBe(true);
  });

  it('reads the tunnel headers, joining repeated ones', () => {
    // Node gives an array for a repeated header it does not know to be a singleton.
    const headers = { forwarded: ['for=1.1.1.1', 'for=2.2.2.2'], baggage: 'a=1', other: 'x' } as unknown as IncomingHttpHeaders;
    expect(tunnelHeadersOf(headers)).toEqual({
      forwarded: 'for=1.1.1.1, for=2.2.2.2',
      baggage: 'a=1',
      traceparent: undefined,
    });
  });

  it('sends only the headers that are set', () => {
    expect(tunnelHeaderEntries(undefined)).toEqual({});
    expect(tunnelHeaderEntries({ baggage: 'a=1', traceparent: undefined })).toEqual({ baggage: 'a=1' });
  });
});

describe('ResetRateLimiter', () => {
  it('trips on the first reset over the limit within one second, and starts over the next second', () => {
    let now = 0;
    const limiter = new ResetRateLimiter(3, () => now);
    expect([limiter.hit(), limiter.hit(), limiter.hit()]).toEqual([false, false, false]);
    now = 999;
    expect(limiter.hit()).toBe(true);
    now = 1000;
    expect(limiter.hit()).toBe(false);
    expect(limiter.hit()).toBe(false);
  });
});
