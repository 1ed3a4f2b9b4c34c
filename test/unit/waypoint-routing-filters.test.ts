// waypoint/routing/filters.ts and no-route.ts: Gateway API filter semantics and the 404 body.
import type { PathModifier__Output } from '../../common/proto/generated/ambit/v1/PathModifier';
import type { RequestRedirect__Output } from '../../common/proto/generated/ambit/v1/RequestRedirect';
import type { RouteFilter__Output } from '../../common/proto/generated/ambit/v1/RouteFilter';
import type { RouteMatch__Output } from '../../common/proto/generated/ambit/v1/RouteMatch';
import type { RequestFacts } from '../../waypoint/pipeline/request-facts';
import { applyHeaderModifier, faultOf, invalidExtensionRef, mirrorsOf, redirectResponse, rewriteRequest, type HeaderMap } from '../../waypoint/routing/filters';
import { noRouteBody } from '../../waypoint/routing/no-route';

function req(over: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: 'GET',
    path: '/',
    host: 'reviews.default:9080',
    headers: {},
    protocol: 'HTTP/1.1',
    grpc: false,
    source: { address: '10.0.0.1', port: 40000 },
    destination: { address: '10.96.0.10', port: 9080 },
    ...over,
  };
}

const prefixMatch = (value: string): RouteMatch__Output => ({ path: { type: 'PATH_PREFIX', value }, headers: [], queryParams: [], method: '', grpcMethod: null });
const exactMatch = (value: string): RouteMatch__Output => ({ path: { type: 'EXACT', value }, headers: [], queryParams: [], method: '', grpcMethod: null });
const replacePrefix = (v: string): PathModifier__Output => ({ type: 'ReplacePrefixMatch', replacePrefixMatch: v, replaceFullPath: '' });
const replaceFull = (v: string): PathModifier__Output => ({ type: 'ReplaceFullPath', replacePrefixMatch: '', replaceFullPath: v });
const redirect = (over: Partial<RequestRedirect__Output> = {}): RequestRedirect__Output => ({ scheme: '', hostname: '', path: null, port: 0, statusCode: 0, ...over });

function filter(over: Partial<RouteFilter__Output>): RouteFilter__Output {
  return {
    type: '',
    requestHeaderModifier: null,
    responseHeaderModifier: null,
    requestRedirect: null,
    urlRewrite: null,
    requestMirror: null,
    extensionRef: null,
    fault: null,
    rateLimit: null,
    ...over,
  };
}

describe('applyHeaderModifier', () => {
  it('set replaces, add appends keeping existing values, remove deletes; names case-insensitive', () => {
    const h: HeaderMap = { 'x-set': 'old', 'x-add': 'foo', 'x-gone': '1', 'x-keep': 'k' };
    applyHeaderModifier(h, {
      set: [{ name: 'X-Set', value: 'new' }, { name: 'X-Fresh', value: 'f' }],
      add: [{ name: 'X-Add', value: 'bar' }, { name: 'X-New', value: 'n' }],
      remove: ['X-GONE'],
    });
    expect(h).toEqual({ 'x-set': 'new', 'x-fresh': 'f', 'x-add': ['foo', 'bar'], 'x-new': 'n', 'x-keep': 'k' });
  });

  it('add to a header that already has several values appends another', () => {
    const h: HeaderMap = { 'set-cookie': ['a=1', 'b=2'] };
    applyHeaderModifier(h, { set: [], add: [{ name: 'Set-Cookie', value: 'c=3' }], remove: [] });
    expect(h['set-cookie']).toEqual(['a=1', 'b=2', 'c=3']);
  });

  it('remove runs first, so set and add of the same name survive it', () => {
    const h: HeaderMap = { x: 'old' };
    applyHeaderModifier(h, { set: [{ name: 'x', value: 's' }], add: [{ name: 'x', value: 'a' }], remove: ['x'] });
    expect(h.x).toEqual(['s', 'a']);
  });
});

describe('rewriteRequest', () => {
  // The HTTPPathModifier table of the Gateway API reference.
  it.each([
    ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo', '/xyz/', '/xyz/bar'],
    ['/foo/bar', '/foo/', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo/', '/xyz/', '/xyz/bar'],
    ['/foo', '/foo', '/xyz', '/xyz'],
    ['/foo/', '/foo', '/xyz', '/xyz/'],
    ['/foo/bar', '/foo', '', '/bar'],
    ['/foo/', '/foo', '', '/'],
    ['/foo', '/foo', '', '/'],
    ['/foo/', '/foo', '/', '/'],
    ['/foo', '/foo', '/', '/'],
    ['/foo/x', '/foo', '/', '/x'],
    ['/a/b', '/', '/v1', '/v1/a/b'],
  ])('ReplacePrefixMatch %s (prefix %s, replace %j) -> %s', (path, prefix, replacement, expected) => {
    expect(rewriteRequest(req({ path }), { hostname: '', path: replacePrefix(replacement) }, prefixMatch(prefix)).path).toBe(expected);
  });

  it('keeps the query string and rewrites the Host only when asked', () => {
    expect(rewriteRequest(req({ path: '/foo/x?a=1&b=2' }), { hostname: '', path: replacePrefix('/bar') }, prefixMatch('/foo'))).toEqual({
      path: '/bar/x?a=1&b=2',
      host: 'reviews.default:9080',
    });
    expect(rewriteRequest(req({ path: '/p?q' }), { hostname: 'ratings.default', path: null }, null)).toEqual({ path: '/p?q', host: 'ratings.default' });
  });

  it('ReplaceFullPath replaces the whole path, keeping the query', () => {
    expect(rewriteRequest(req({ path: '/anything/here?x=1' }), { hostname: '', path: replaceFull('/fixed') }, prefixMatch('/anything')).path).toBe('/fixed?x=1');
  });

  it('ReplacePrefixMatch on a rule without matches treats the match as PathPrefix "/"', () => {
    expect(rewriteRequest(req({ path: '/a' }), { hostname: '', path: replacePrefix('/b') }, null).path).toBe('/b/a');
  });

  it('ReplacePrefixMatch with a non-prefix match leaves the path alone (the API forbids it)', () => {
    expect(rewriteRequest(req({ path: '/foo' }), { hostname: '', path: replacePrefix('/bar') }, exactMatch('/foo')).path).toBe('/foo');
  });
});

describe('redirectResponse', () => {
  it('defaults to 302 to the same scheme, host (without its port) and path, on the Service port', () => {
    expect(redirectResponse(req({ path: '/a?b=1' }), redirect(), null, 'http')).toEqual({ status: 302, location: 'http://reviews.default:9080/a?b=1' });
  });

  it('omits the port when it is the scheme default', () => {
    const r = req({ destination: { address: '10.96.0.10', port: 80 }, host: 'reviews' });
    expect(redirectResponse(r, redirect({ hostname: 'example.com' }), null, 'http').location).toBe('http://example.com/');
    expect(redirectResponse(r, redirect({ port: 443 }), null, 'https').location).toBe('https://reviews/');
    expect(redirectResponse(r, redirect({ port: 8443 }), null, 'https').location).toBe('https://reviews:8443/');
  });

  it('a scheme change without a port goes to the well-known port of the new scheme', () => {
    const out = redirectResponse(req({ path: '/login?next=/' }), redirect({ scheme: 'https', statusCode: 301 }), null, 'http');
    expect(out).toEqual({ status: 301, location: 'https://reviews.default/login?next=/' });
  });

  it('applies ReplaceFullPath and ReplacePrefixMatch, keeping the query', () => {
    expect(redirectResponse(req({ path: '/old/a?x=1' }), redirect({ path: replacePrefix('/new') }), prefixMatch('/old'), 'http').location).toBe(
      'http://reviews.default:9080/new/a?x=1',
    );
    expect(redirectResponse(req({ path: '/old/a' }), redirect({ path: replaceFull('/moved'), hostname: 'h' }), prefixMatch('/old'), 'http').location).toBe(
      'http://h:9080/moved',
    );
  });

  it('keeps IPv6 literal hosts bracketed', () => {
    expect(redirectResponse(req({ host: '[fd00::1]:9080' }), redirect(), null, 'http').location).toBe('http://[fd00::1]:9080/');
  });
});

describe('mirrorsOf', () => {
  const mirror = (name: string, percent: number): RouteFilter__Output =>
    filter({
      type: 'RequestMirror',
      requestMirror: { percent, backend: { serviceHostname: `${name}.default.svc.cluster.local`, serviceName: name, serviceNamespace: 'default', port: 80, weight: 1, filters: [] } },
    });

  it('fires 100% mirrors always, 0% never, and others by percent', () => {
    const filters = [mirror('always', 100), mirror('never', 0), mirror('half', 50), filter({ type: 'RequestHeaderModifier' })];
    expect(mirrorsOf(filters, () => 0.49).map((m) => m.backend?.serviceName)).toEqual(['always', 'half']);
    expect(mirrorsOf(filters, () => 0.5).map((m) => m.backend?.serviceName)).toEqual(['always']);
  });

  it('fires about `percent` of the time', () => {
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    let fired = 0;
    for (let i = 0; i < 10000; i++) fired += mirrorsOf([mirror('m', 25)], random).length;
    expect(Math.abs(fired / 100 - 25)).toBeLessThan(1.5);
  });
});

describe('ExtensionRef filters', () => {
  const fault = { delayPercent: 0, fixedDelayMs: 0, abortPercent: 100, abortHttpStatus: 503, abortGrpcStatus: 0 };
  const ext = { group: 'ambit.dev', kind: 'FaultInjection', name: 'f' };

  it('faultOf returns the resolved FaultInjection', () => {
    expect(faultOf([filter({ type: 'RequestHeaderModifier' }), filter({ type: 'ExtensionRef', extensionRef: ext, fault })])).toBe(fault);
    expect(faultOf([filter({ type: 'RequestHeaderModifier' })])).toBeUndefined();
  });

  it('invalidExtensionRef is true only for an unresolved ExtensionRef (the rule answers 500)', () => {
    expect(invalidExtensionRef([filter({ type: 'ExtensionRef', extensionRef: { ...ext, kind: 'Other' } })])).toBe(true);
    expect(invalidExtensionRef([filter({ type: 'ExtensionRef', extensionRef: ext, fault })])).toBe(false);
    const rateLimit = {} as NonNullable<RouteFilter__Output['rateLimit']>;
    expect(invalidExtensionRef([filter({ type: 'ExtensionRef', extensionRef: { ...ext, kind: 'LocalRateLimit' }, rateLimit })])).toBe(false);
    expect(invalidExtensionRef([])).toBe(false);
  });
});

describe('noRouteBody', () => {
  it('names the service, port, attached routes and the request, and says what to check', () => {
    const body = noRouteBody({ hostname: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' }, 9080, req({ method: 'POST', path: '/v3/x?secret=1' }), [
      'default/a',
      'default/b',
    ]);
    expect(body).toContain('POST /v3/x');
    expect(body).not.toContain('secret');
    expect(body).toContain('default/reviews (reviews.default.svc.cluster.local) port 9080 has 2 routes attached');
    expect(body).toMatch(/- default\/a\n\s+- default\/b/);
    expect(body).toContain('check:');
  });
});
