// waypoint/routing/route-match.ts: each Gateway API match type, alone and combined.
import type { HeaderMatch__Output } from '../../common/proto/generated/ambit/v1/HeaderMatch';
import type { MatchType__Output } from '../../common/proto/generated/ambit/v1/MatchType';
import type { RouteMatch__Output } from '../../common/proto/generated/ambit/v1/RouteMatch';
import type { RequestFacts } from '../../waypoint/pipeline/request-facts';
import { compileFullMatch } from '../../waypoint/routing/regex';
import { grpcPathParts, parseQuery } from '../../waypoint/routing/request-view';
import { matchesRequest } from '../../waypoint/routing/route-match';

function req(over: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: 'GET',
    path: '/',
    host: 'reviews.default.svc.cluster.local:9080',
    headers: {},
    protocol: 'HTTP/1.1',
    grpc: false,
    source: { address: '10.0.0.1', port: 40000 },
    destination: { address: '10.96.0.10', port: 9080 },
    ...over,
  };
}

function match(over: Partial<RouteMatch__Output> = {}): RouteMatch__Output {
  return { path: null, headers: [], queryParams: [], method: '', grpcMethod: null, ...over };
}

const path = (type: MatchType__Output, value: string): RouteMatch__Output => match({ path: { type, value } });
const hm = (name: string, value: string, type: MatchType__Output = 'EXACT'): HeaderMatch__Output => ({ type, name, value });
const http = (m: RouteMatch__Output | null, r: RequestFacts): boolean => matchesRequest(m, false, r);
const grpc = (m: RouteMatch__Output | null, r: RequestFacts): boolean => matchesRequest(m, true, r);

describe('path matches', () => {
  it('Exact matches the whole path only, ignoring the query string', () => {
    const m = path('EXACT', '/foo');
    expect(http(m, req({ path: '/foo' }))).toBe(true);
    expect(http(m, req({ path: '/foo?x=1' }))).toBe(true);
    expect(http(m, req({ path: '/foo/' }))).toBe(false);
    expect(http(m, req({ path: '/foo/bar' }))).toBe(false);
    expect(http(m, req({ path: '/Foo' }))).toBe(false);
  });

  it('PathPrefix matches element by element: /foo covers /foo and /foo/bar, not /foobar', () => {
    const m = path('PATH_PREFIX', '/foo');
    for (const p of ['/foo', '/foo/', '/foo/bar', '/foo/bar/baz?q=1']) expect(http(m, req({ path: p }))).toBe(true);
    for (const p of ['/foobar', '/fo', '/', '/bar/foo']) expect(http(m, req({ path: p }))).toBe(false);
  });

  it('PathPrefix ignores a trailing slash in the prefix (so /foo/ also matches /foo)', () => {
    const m = path('PATH_PREFIX', '/foo/');
    expect(http(m, req({ path: '/foo' }))).toBe(true);
    expect(http(m, req({ path: '/foo/x' }))).toBe(true);
    expect(http(m, req({ path: '/foox' }))).toBe(false);
  });

  it('PathPrefix "/" and a null match (rule without matches) match every path', () => {
    expect(http(path('PATH_PREFIX', '/'), req({ path: '/anything/at/all' }))).toBe(true);
    expect(http(null, req({ path: '/x' }))).toBe(true);
    expect(http(match(), req({ path: '/x' }))).toBe(true);
  });

  it('RegularExpression is a full match, not a search', () => {
    const m = path('REGULAR_EXPRESSION', '/api/v[0-9]+/.*');
    expect(http(m, req({ path: '/api/v2/users' }))).toBe(true);
    expect(http(m, req({ path: '/x/api/v2/users' }))).toBe(false);
    expect(http(path('REGULAR_EXPRESSION', '/a|/b'), req({ path: '/b' }))).toBe(true);
    expect(http(path('REGULAR_EXPRESSION', '/a|/b'), req({ path: '/bc' }))).toBe(false);
  });

  it('a regex JS cannot compile never matches instead of throwing', () => {
    expect(http(path('REGULAR_EXPRESSION', '/(unclosed'), req({ path: '/(unclosed' }))).toBe(false);
  });
});

describe('RE2 spellings', () => {
  it('translates (?i), (?P<name>…) and \\A…\\z', () => {
    expect(compileFullMatch('(?i)/API')?.test('/api')).toBe(true);
    expect(compileFullMatch('/(?P<id>[0-9]+)')?.exec('/42')?.groups?.id).toBe('42');
    expect(compileFullMatch('\\A/x\\z')?.test('/x')).toBe(true);
    expect(compileFullMatch('a\\\\A')?.test('a\\A')).toBe(true); // an escaped backslash, then "A"
    expect(compileFullMatch('(')).toBeNull();
  });
});

describe('header matches', () => {
  it('match names case-insensitively and values exactly', () => {
    const m = match({ headers: [hm('X-Version', 'v2')] });
    expect(http(m, req({ headers: { 'x-version': 'v2' } }))).toBe(true);
    expect(http(m, req({ headers: { 'x-version': 'V2' } }))).toBe(false);
    expect(http(m, req({ headers: {} }))).toBe(false);
  });

  it('RegularExpression values are full matches', () => {
    const m = match({ headers: [hm('user-agent', '.*Chrome.*', 'REGULAR_EXPRESSION')] });
    expect(http(m, req({ headers: { 'user-agent': 'Mozilla Chrome/120' } }))).toBe(true);
    expect(http(m, req({ headers: { 'user-agent': 'curl/8' } }))).toBe(false);
    expect(http(match({ headers: [hm('x', 'a', 'REGULAR_EXPRESSION')] }), req({ headers: { x: 'ab' } }))).toBe(false);
  });

  it('all headers of a match must match (AND)', () => {
    const m = match({ headers: [hm('a', '1'), hm('b', '2')] });
    expect(http(m, req({ headers: { a: '1', b: '2' } }))).toBe(true);
    expect(http(m, req({ headers: { a: '1' } }))).toBe(false);
  });

  it('only the first entry for a repeated header name counts', () => {
    const m = match({ headers: [hm('x', '1'), hm('X', '2')] });
    expect(http(m, req({ headers: { x: '1' } }))).toBe(true);
  });

  it('a repeated request header matches joined by "," or by any single value', () => {
    const r = req({ headers: { 'x-tag': ['a', 'b'] } as RequestFacts['headers'] });
    expect(http(match({ headers: [hm('x-tag', 'a,b')] }), r)).toBe(true);
    expect(http(match({ headers: [hm('x-tag', 'b')] }), r)).toBe(true);
    expect(http(match({ headers: [hm('x-tag', 'c')] }), r)).toBe(false);
  });

  it('a Host header match reads the request authority (HTTP/2 has no host header)', () => {
    const m = match({ headers: [hm('host', 'reviews\\..*', 'REGULAR_EXPRESSION')] });
    expect(http(m, req({ protocol: 'HTTP/2', headers: {} }))).toBe(true);
  });
});

describe('query param matches', () => {
  it('match names case-sensitively, decoded values, first value of a repeated param', () => {
    const m = match({ queryParams: [hm('env', 'canary')] });
    expect(http(m, req({ path: '/?env=canary' }))).toBe(true);
    expect(http(m, req({ path: '/?ENV=canary' }))).toBe(false);
    expect(http(m, req({ path: '/?env=stable&env=canary' }))).toBe(false);
    expect(http(m, req({ path: '/' }))).toBe(false);
    expect(http(match({ queryParams: [hm('q', 'a b')] }), req({ path: '/s?q=a%20b' }))).toBe(true);
    expect(http(match({ queryParams: [hm('id', '[0-9]+', 'REGULAR_EXPRESSION')] }), req({ path: '/?id=123' }))).toBe(true);
  });

  it('parseQuery keeps flags, malformed escapes and ignores a fragment', () => {
    const q = parseQuery('/p?flag&bad=%E0%A4&x=1#frag');
    expect(q.get('flag')).toBe('');
    expect(q.get('bad')).toBe('%E0%A4');
    expect(q.get('x')).toBe('1');
  });
});

describe('method matches', () => {
  it('match the request method; empty = any', () => {
    expect(http(match({ method: 'POST' }), req({ method: 'POST' }))).toBe(true);
    expect(http(match({ method: 'POST' }), req({ method: 'GET' }))).toBe(false);
    expect(http(match({ method: '' }), req({ method: 'DELETE' }))).toBe(true);
  });

  it('combine with path and headers (all AND)', () => {
    const m = match({ path: { type: 'PATH_PREFIX', value: '/api' }, method: 'PUT', headers: [hm('x', '1')] });
    expect(http(m, req({ method: 'PUT', path: '/api/a', headers: { x: '1' } }))).toBe(true);
    expect(http(m, req({ method: 'PUT', path: '/web', headers: { x: '1' } }))).toBe(false);
  });
});

describe('gRPC method matches', () => {
  const g = (type: MatchType__Output, service: string, method: string): RouteMatch__Output => match({ grpcMethod: { type, service, method } });
  const call = (p: string): RequestFacts => req({ path: p, grpc: true, method: 'POST', protocol: 'HTTP/2' });

  it('read service and method from "/<service>/<method>"', () => {
    expect(grpcPathParts('/helloworld.Greeter/SayHello')).toEqual({ service: 'helloworld.Greeter', method: 'SayHello' });
    expect(grpcPathParts('/a/b/c')).toBeNull();
    expect(grpcPathParts('/onlyservice')).toBeNull();
    expect(grpcPathParts('/svc/')).toBeNull();
  });

  it('Exact with service and method, or either alone (empty = any)', () => {
    expect(grpc(g('EXACT', 'helloworld.Greeter', 'SayHello'), call('/helloworld.Greeter/SayHello'))).toBe(true);
    expect(grpc(g('EXACT', 'helloworld.Greeter', 'SayHello'), call('/helloworld.Greeter/SayBye'))).toBe(false);
    expect(grpc(g('EXACT', 'helloworld.Greeter', ''), call('/helloworld.Greeter/SayBye'))).toBe(true);
    expect(grpc(g('EXACT', '', 'SayBye'), call('/other.Svc/SayBye'))).toBe(true);
    expect(grpc(g('EXACT', 'helloworld.Greeter', ''), call('/not-grpc-shaped'))).toBe(false);
  });

  it('RegularExpression matches service and method in full', () => {
    const m = g('REGULAR_EXPRESSION', 'helloworld\\..*', 'Say.*');
    expect(grpc(m, call('/helloworld.Greeter/SayHello'))).toBe(true);
    expect(grpc(m, call('/helloworld.Greeter/Greet'))).toBe(false);
    expect(grpc(m, call('/x.helloworld.Greeter/SayHello'))).toBe(false);
  });

  it('GRPCRoute rules only match gRPC requests; HTTPRoute rules match gRPC too', () => {
    expect(grpc(null, req({ path: '/helloworld.Greeter/SayHello', grpc: false }))).toBe(false);
    expect(grpc(null, call('/helloworld.Greeter/SayHello'))).toBe(true);
    expect(http(path('PATH_PREFIX', '/helloworld.Greeter'), call('/helloworld.Greeter/SayHello'))).toBe(true);
  });

  it('GRPCRoute header matches apply', () => {
    const m = match({ grpcMethod: { type: 'EXACT', service: 's.S', method: '' }, headers: [hm('x-tenant', 'a')] });
    expect(grpc(m, { ...call('/s.S/M'), headers: { 'x-tenant': 'a' } })).toBe(true);
    expect(grpc(m, { ...call('/s.S/M'), headers: { 'x-tenant': 'b' } })).toBe(false);
  });
});
