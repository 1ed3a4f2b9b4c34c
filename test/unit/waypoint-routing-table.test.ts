// waypoint/routing/route-table.ts: attachment (GEP-1294), default vs no-match, and the Gateway
// API matching precedence across rules of every route attached to a Service.
import type { BackendRef__Output } from '../../common/proto/generated/ambit/v1/BackendRef';
import type { Route__Output } from '../../common/proto/generated/ambit/v1/Route';
import type { RouteMatch__Output } from '../../common/proto/generated/ambit/v1/RouteMatch';
import type { RouteParent__Output } from '../../common/proto/generated/ambit/v1/RouteParent';
import type { RouteRule__Output } from '../../common/proto/generated/ambit/v1/RouteRule';
import type { RequestFacts } from '../../waypoint/pipeline/request-facts';
import { RouteTable, type RouteSelection, type ServiceRef } from '../../waypoint/routing/route-table';

const REVIEWS: ServiceRef = { hostname: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' };
const RATINGS: ServiceRef = { hostname: 'ratings.default.svc.cluster.local', name: 'ratings', namespace: 'default' };

function req(over: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: 'GET',
    path: '/',
    host: 'reviews:9080',
    headers: {},
    protocol: 'HTTP/1.1',
    grpc: false,
    source: { address: '10.0.0.1', port: 40000 },
    destination: { address: '10.96.0.10', port: 9080 },
    ...over,
  };
}

const backend = (name: string): BackendRef__Output => ({
  serviceHostname: `${name}.default.svc.cluster.local`,
  serviceName: name,
  serviceNamespace: 'default',
  port: 9080,
  weight: 1,
  filters: [],
});

function m(over: Partial<RouteMatch__Output> = {}): RouteMatch__Output {
  return { path: { type: 'PATH_PREFIX', value: '/' }, headers: [], queryParams: [], method: '', grpcMethod: null, ...over };
}
const prefix = (value: string, over: Partial<RouteMatch__Output> = {}): RouteMatch__Output => m({ path: { type: 'PATH_PREFIX', value }, ...over });
const exact = (value: string): RouteMatch__Output => m({ path: { type: 'EXACT', value } });
const regex = (value: string): RouteMatch__Output => m({ path: { type: 'REGULAR_EXPRESSION', value } });

function rule(matches: RouteMatch__Output[], to: string, name = ''): RouteRule__Output {
  return { name, matches, filters: [], backendRefs: [backend(to)], timeouts: null, retry: null };
}

const parent = (over: Partial<RouteParent__Output> = {}): RouteParent__Output => ({
  serviceHostname: REVIEWS.hostname,
  serviceName: 'reviews',
  serviceNamespace: 'default',
  port: 0,
  ...over,
});

function route(name: string, rules: RouteRule__Output[], over: Partial<Route__Output> = {}): Route__Output {
  return { name, namespace: 'default', kind: 'HTTP', parents: [parent()], hostnames: [], rules, creationTimestampMs: 1000, ...over };
}

/** The backend the selected rule sends to, or the selection kind. */
function target(s: RouteSelection): string {
  return s.kind === 'matched' ? s.rule.backendRefs[0].serviceName : s.kind;
}

describe('attachment', () => {
  it('no route attached: default (the waypoint sends to the Service itself)', () => {
    const t = new RouteTable([route('r', [rule([prefix('/')], 'v1')])]);
    expect(t.select(RATINGS, 9080, req())).toEqual({ kind: 'default' });
    expect(new RouteTable([]).select(REVIEWS, 9080, req()).kind).toBe('default');
  });

  it('routes attached but none matches: no-match with the route names', () => {
    const t = new RouteTable([route('b', [rule([exact('/b')], 'v1')]), route('a', [rule([exact('/a')], 'v1')])]);
    const s = t.select(REVIEWS, 9080, req({ path: '/c' }));
    expect(s).toEqual({ kind: 'no-match', routes: ['default/a', 'default/b'] });
    expect(t.attached(REVIEWS, 9080)).toEqual(['default/a', 'default/b']);
  });

  it('a match reports route, rule, rule index, match and "<ns>/<name>"', () => {
    const r1 = rule([exact('/x')], 'v1');
    const r2 = rule([prefix('/y'), prefix('/z')], 'v2');
    const r = route('reviews-route', [r1, r2]);
    const s = new RouteTable([r]).select(REVIEWS, 9080, req({ path: '/z/1' }));
    expect(s).toEqual({ kind: 'matched', route: r, rule: r2, ruleIndex: 1, match: r2.matches[1], name: 'default/reviews-route' });
  });

  it('attaches by hostname only, or by name with an empty namespace meaning the route namespace', () => {
    const byHost = route('h', [rule([m()], 'v1')], { parents: [parent({ serviceName: '', serviceNamespace: '' })] });
    const byName = route('n', [rule([m()], 'v2')], { parents: [parent({ serviceHostname: '', serviceNamespace: '' })] });
    expect(target(new RouteTable([byHost]).select(REVIEWS, 9080, req()))).toBe('v1');
    expect(target(new RouteTable([byName]).select(REVIEWS, 9080, req()))).toBe('v2');
    const otherNs = route('n', [rule([m()], 'v2')], { namespace: 'prod', parents: [parent({ serviceHostname: '', serviceNamespace: '' })] });
    expect(new RouteTable([otherNs]).select(REVIEWS, 9080, req()).kind).toBe('default');
  });

  it('a route reaching the Service by hostname and by name is listed once', () => {
    const r = route('r', [rule([exact('/only')], 'v1')], { parents: [parent({ serviceName: '' }), parent({ serviceHostname: '' })] });
    expect(new RouteTable([r]).select(REVIEWS, 9080, req({ path: '/x' }))).toEqual({ kind: 'no-match', routes: ['default/r'] });
  });

  it('parent port 0 applies to every port; a set port only to that port', () => {
    const all = route('all', [rule([prefix('/')], 'all')]);
    const only = route('only', [rule([prefix('/')], 'only')], { parents: [parent({ port: 9090 })], creationTimestampMs: 1 });
    const t = new RouteTable([all, only]);
    expect(target(t.select(REVIEWS, 9090, req()))).toBe('only'); // older route wins the tie
    expect(target(t.select(REVIEWS, 9080, req()))).toBe('all');
    const portOnly = new RouteTable([only]);
    expect(portOnly.select(REVIEWS, 9080, req()).kind).toBe('default');
    expect(target(portOnly.select(REVIEWS, 9090, req()))).toBe('only');
  });

  it('ignores hostnames (GEP-1294: GAMMA infers nothing from them)', () => {
    const r = route('r', [rule([m()], 'v1')], { hostnames: ['not-this-host.example.com'] });
    expect(target(new RouteTable([r]).select(REVIEWS, 9080, req({ host: 'reviews:9080' })))).toBe('v1');
  });

  it('returns the same selection object for the same rule (no allocation per request)', () => {
    const t = new RouteTable([route('r', [rule([m()], 'v1')])]);
    expect(t.select(REVIEWS, 9080, req())).toBe(t.select(REVIEWS, 9080, req({ path: '/other' })));
  });
});

describe('HTTPRoute precedence', () => {
  it('Exact beats PathPrefix, whatever the rule order', () => {
    const t = new RouteTable([route('r', [rule([prefix('/login')], 'prefix'), rule([exact('/login')], 'exact')])]);
    expect(target(t.select(REVIEWS, 9080, req({ path: '/login' })))).toBe('exact');
    expect(target(t.select(REVIEWS, 9080, req({ path: '/login/x' })))).toBe('prefix');
  });

  it('the longest prefix wins, across routes', () => {
    const t = new RouteTable([
      route('a', [rule([prefix('/')], 'root')]),
      route('b', [rule([prefix('/api')], 'api')], { creationTimestampMs: 5000 }),
      route('c', [rule([prefix('/api/v2/')], 'api-v2')], { creationTimestampMs: 9000 }),
    ]);
    expect(target(t.select(REVIEWS, 9080, req({ path: '/api/v2/users' })))).toBe('api-v2');
    expect(target(t.select(REVIEWS, 9080, req({ path: '/api/v20' })))).toBe('api');
    expect(target(t.select(REVIEWS, 9080, req({ path: '/apiary' })))).toBe('root');
  });

  it('RegularExpression ranks after every prefix (Istio order), longer pattern first', () => {
    const t = new RouteTable([route('r', [rule([regex('/img/.*')], 're-short'), rule([regex('/img/[a-z]+\\.png')], 're-long'), rule([prefix('/img')], 'prefix')])]);
    expect(target(t.select(REVIEWS, 9080, req({ path: '/img/a.png' })))).toBe('prefix');
    const noPrefix = new RouteTable([route('r', [rule([regex('/img/.*')], 're-short'), rule([regex('/img/[a-z]+\\.png')], 're-long')])]);
    expect(target(noPrefix.select(REVIEWS, 9080, req({ path: '/img/a.png' })))).toBe('re-long');
    expect(target(noPrefix.select(REVIEWS, 9080, req({ path: '/img/A.gif' })))).toBe('re-short');
  });

  it('then a method match, then the most header matches, then the most query param matches', () => {
    const t = new RouteTable([
      route('r', [
        rule([prefix('/p')], 'plain'),
        rule([prefix('/p', { queryParams: [{ type: 'EXACT', name: 'a', value: '1' }, { type: 'EXACT', name: 'b', value: '2' }] })], 'two-query'),
        rule([prefix('/p', { headers: [{ type: 'EXACT', name: 'x', value: '1' }] })], 'one-header'),
        rule([prefix('/p', { headers: [{ type: 'EXACT', name: 'x', value: '1' }, { type: 'EXACT', name: 'y', value: '1' }] })], 'two-headers'),
        rule([prefix('/p', { method: 'POST' })], 'method'),
      ]),
    ]);
    const at = (over: Partial<RequestFacts>): string => target(t.select(REVIEWS, 9080, req({ path: '/p', ...over })));
    expect(at({ method: 'POST', headers: { x: '1', y: '1' } })).toBe('method');
    expect(at({ headers: { x: '1', y: '1' }, path: '/p?a=1&b=2' })).toBe('two-headers');
    expect(at({ headers: { x: '1' }, path: '/p?a=1&b=2' })).toBe('one-header');
    expect(at({ path: '/p?a=1&b=2' })).toBe('two-query');
    expect(at({})).toBe('plain');
  });

  it('a longer prefix beats more headers (path criteria come first)', () => {
    const t = new RouteTable([route('r', [rule([prefix('/a', { headers: [{ type: 'EXACT', name: 'x', value: '1' }] })], 'headers'), rule([prefix('/a/b')], 'longer')])]);
    expect(target(t.select(REVIEWS, 9080, req({ path: '/a/b', headers: { x: '1' } })))).toBe('longer');
  });

  it('ties: the oldest route, then "<namespace>/<name>", then rule order', () => {
    const newer = route('aaa', [rule([prefix('/')], 'newer')], { creationTimestampMs: 2000 });
    const older = route('zzz', [rule([prefix('/')], 'older')], { creationTimestampMs: 1000 });
    expect(target(new RouteTable([newer, older]).select(REVIEWS, 9080, req()))).toBe('older');
    const b = route('b', [rule([prefix('/')], 'b')]);
    const a = route('a', [rule([prefix('/')], 'a')]);
    expect(target(new RouteTable([b, a]).select(REVIEWS, 9080, req()))).toBe('a');
    const inOrder = route('r', [rule([prefix('/')], 'first'), rule([prefix('/')], 'second')]);
    expect(target(new RouteTable([inOrder]).select(REVIEWS, 9080, req()))).toBe('first');
  });

  it('matches of one rule are ORed and each ranks on its own', () => {
    const t = new RouteTable([route('r', [rule([exact('/a'), prefix('/b')], 'multi'), rule([prefix('/b/c')], 'bc')])]);
    expect(target(t.select(REVIEWS, 9080, req({ path: '/a' })))).toBe('multi');
    expect(target(t.select(REVIEWS, 9080, req({ path: '/b/x' })))).toBe('multi');
    expect(target(t.select(REVIEWS, 9080, req({ path: '/b/c/d' })))).toBe('bc');
  });
});

describe('GRPCRoute', () => {
  const gm = (type: 'EXACT' | 'REGULAR_EXPRESSION', service: string, method: string): RouteMatch__Output =>
    m({ path: null, grpcMethod: { type, service, method } });
  const call = (path: string, headers: RequestFacts['headers'] = {}): RequestFacts => req({ path, headers, grpc: true, method: 'POST', protocol: 'HTTP/2' });

  it('routes by service and method with GRPCRoute precedence', () => {
    const t = new RouteTable([
      route('g', [
        rule([gm('REGULAR_EXPRESSION', 'helloworld\\..*', '')], 'regex'),
        rule([gm('EXACT', 'helloworld.Greeter', '')], 'service'),
        rule([gm('EXACT', 'helloworld.Greeter', 'SayHello')], 'service-method'),
        rule([m({ path: null })], 'any'),
      ]),
    ].map((r) => ({ ...r, kind: 'GRPC' as const })));
    expect(target(t.select(REVIEWS, 9080, call('/helloworld.Greeter/SayHello')))).toBe('service-method');
    expect(target(t.select(REVIEWS, 9080, call('/helloworld.Greeter/SayBye')))).toBe('service');
    expect(target(t.select(REVIEWS, 9080, call('/helloworld.Other/SayBye')))).toBe('regex');
    expect(target(t.select(REVIEWS, 9080, call('/other.Svc/M')))).toBe('any');
  });

  it('more header matches win between equal method matches', () => {
    const withHeader = m({ path: null, grpcMethod: { type: 'EXACT', service: 's.S', method: '' }, headers: [{ type: 'EXACT', name: 'x-canary', value: 'true' }] });
    const t = new RouteTable([route('g', [rule([gm('EXACT', 's.S', '')], 'plain'), rule([withHeader], 'canary')], { kind: 'GRPC' })]);
    expect(target(t.select(REVIEWS, 9080, call('/s.S/M', { 'x-canary': 'true' })))).toBe('canary');
    expect(target(t.select(REVIEWS, 9080, call('/s.S/M')))).toBe('plain');
  });

  it('a plain HTTP request to a GRPCRoute-only Service matches nothing', () => {
    const t = new RouteTable([route('g', [rule([m({ path: null })], 'any')], { kind: 'GRPC' })]);
    expect(t.select(REVIEWS, 9080, req({ path: '/s.S/M' }))).toEqual({ kind: 'no-match', routes: ['default/g'] });
  });

  it('HTTPRoutes on a Service port that also has GRPCRoutes are ignored (GEP-1294 route types)', () => {
    const http = route('h', [rule([prefix('/')], 'http')], { creationTimestampMs: 1 });
    const grpc = route('g', [rule([gm('EXACT', 's.S', '')], 'grpc')], { kind: 'GRPC', parents: [parent({ port: 9090 })] });
    const t = new RouteTable([http, grpc]);
    expect(target(t.select(REVIEWS, 9090, call('/s.S/M')))).toBe('grpc');
    expect(t.select(REVIEWS, 9090, req({ path: '/web' }))).toEqual({ kind: 'no-match', routes: ['default/g'] });
    // On other ports the HTTPRoute still applies.
    expect(target(t.select(REVIEWS, 9080, req({ path: '/web' })))).toBe('http');
  });
});
