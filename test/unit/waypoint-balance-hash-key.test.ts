import { cookieValue, hashKeyOf, queryParameter } from '../../waypoint/balance/hash-key';
import type { ConsistentHash__Output } from '../../common/proto/generated/ambit/v1/ConsistentHash';
import type { RequestFacts } from '../../waypoint/pipeline/request-facts';

function request(over: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: 'GET',
    path: '/cart?user=al%20ice&x=1',
    host: 'shop.default.svc.cluster.local',
    headers: { 'x-user': 'bob', cookie: 'theme=dark; session="abc123"' },
    protocol: 'HTTP/1.1',
    grpc: false,
    source: { address: '10.0.0.7', port: 40000 },
    destination: { address: '10.96.0.10', port: 80 },
    ...over,
  };
}

const ch = (c: Partial<ConsistentHash__Output>): ConsistentHash__Output => ({ ringHashMinimumRingSize: 1024, algorithm: 'ringHashMinimumRingSize', ...c });

describe('consistent-hash key of a request', () => {
  it('reads a header (name case-insensitive) and gives no key when it is absent', () => {
    expect(hashKeyOf(ch({ httpHeaderName: 'X-User', hashKey: 'httpHeaderName' }), request())).toEqual({ key: 'bob' });
    expect(hashKeyOf(ch({ httpHeaderName: 'x-other', hashKey: 'httpHeaderName' }), request())).toEqual({});
  });

  it('uses the source IP', () => {
    expect(hashKeyOf(ch({ useSourceIp: true, hashKey: 'useSourceIp' }), request())).toEqual({ key: '10.0.0.7' });
  });

  it('reads a decoded query parameter', () => {
    expect(hashKeyOf(ch({ httpQueryParameterName: 'user', hashKey: 'httpQueryParameterName' }), request())).toEqual({ key: 'al ice' });
    expect(hashKeyOf(ch({ httpQueryParameterName: 'nope', hashKey: 'httpQueryParameterName' }), request())).toEqual({});
    expect(queryParameter('/p?a&b=2#frag', 'a')).toBe('');
    expect(queryParameter('/p?a=1&b=2#frag', 'b')).toBe('2');
    expect(queryParameter('/p', 'a')).toBeUndefined();
  });

  it('reads a cookie, unquoted, from one or several Cookie headers', () => {
    const cookie = { name: 'session', path: '/', ttlMs: 60_000 };
    expect(hashKeyOf(ch({ httpCookie: cookie, hashKey: 'httpCookie' }), request())).toEqual({ key: 'abc123' });
    expect(cookieValue(['a=1', 'session=xyz'], 'session')).toBe('xyz');
    expect(cookieValue('sessionx=1', 'session')).toBeUndefined();
  });

  it('generates a cookie with Path and Max-Age when it is absent and a ttl is set (Istio)', () => {
    const cookie = { name: 'affinity', path: '/shop', ttlMs: 90_500 };
    const req = request({ headers: {} });
    const first = hashKeyOf(ch({ httpCookie: cookie, hashKey: 'httpCookie' }), req, 1_000);
    expect(first.key).toMatch(/^[0-9a-f]{14}$/);
    expect(first.setCookie).toBe(`affinity="${first.key}"; Max-Age=91; Path=/shop; HttpOnly`);
    // A second client (or the same one later) gets a different value; echoing it back is sticky.
    const second = hashKeyOf(ch({ httpCookie: cookie, hashKey: 'httpCookie' }), req, 1_000);
    expect(second.key).not.toBe(first.key);
    const back = request({ headers: { cookie: first.setCookie!.split(';')[0] } });
    expect(hashKeyOf(ch({ httpCookie: cookie, hashKey: 'httpCookie' }), back)).toEqual({ key: first.key });
  });

  it('generates nothing without a ttl, and omits an empty Path', () => {
    const req = request({ headers: {} });
    expect(hashKeyOf(ch({ httpCookie: { name: 'c', path: '', ttlMs: 0 }, hashKey: 'httpCookie' }), req)).toEqual({});
    expect(hashKeyOf(ch({ httpCookie: { name: 'c', path: '', ttlMs: 1000 }, hashKey: 'httpCookie' }), req).setCookie).toMatch(/^c="[0-9a-f]+"; Max-Age=1; HttpOnly$/);
  });

  it('infers the oneof case when the discriminant is missing', () => {
    expect(hashKeyOf(ch({ httpHeaderName: 'x-user' }), request())).toEqual({ key: 'bob' });
    expect(hashKeyOf(ch({}), request())).toEqual({});
  });
});
