// What a waypoint subscriber (Subscribe.waypoint "<ns>/<name>") receives, end to end: Kubernetes-
// shaped objects -> the real model and translation -> ConfigService.Watch -> a real ConfigClient.
// It must get exactly what it serves and enforces, and nothing of another waypoint's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigClient, ConfigUpdate } from '../../common/config-client';
import type { KubeObject } from '../../control-plane/kube/objects';
import { BootstrapTokenAuthenticator } from '../../control-plane/auth/bootstrap-token-authenticator';
import { ControlPlane, startControlPlane } from '../../control-plane/control-plane';
import { StaticSource } from '../../control-plane/sources/static-source';
import { authorizationPolicy, namespace, object, pod, service, waypointGateway } from '../support/kube-fixtures';

const GW = 'gateway.networking.k8s.io/v1';
const USE = 'istio.io/use-waypoint';
const GATEWAY_NAME = 'gateway.networking.k8s.io/gateway-name';
const L7_RULES = [{ to: [{ operation: { methods: ['GET'] } }] }];

const route = (kind: 'HTTPRoute' | 'GRPCRoute', name: string, ns: string, parent: string, rule: Record<string, unknown>): KubeObject =>
  object(kind, GW, name, ns, { parentRefs: [{ group: '', kind: 'Service', name: parent }], rules: [rule] });
const requestAuthentication = (name: string, ns: string, targetRefs: unknown[]): KubeObject =>
  object('RequestAuthentication', 'security.istio.io/v1', name, ns, { targetRefs, jwtRules: [{ issuer: 'https://issuer.example', jwksUri: 'https://issuer.example/jwks' }] });
const destinationRule = (name: string, ns: string, host: string, trafficPolicy: unknown = { loadBalancer: { simple: 'LEAST_REQUEST' } }, annotations?: Record<string, string>): KubeObject =>
  object('DestinationRule', 'networking.istio.io/v1', name, ns, { host, trafficPolicy }, annotations ? { annotations } : {});
const rateLimit = (maxTokens: number): KubeObject => object('LocalRateLimit', 'ambit.dev/v1alpha1', 'cart-limit', 'shop', { maxTokens, fillInterval: '1s' });

const OBJECTS: KubeObject[] = [
  namespace('istio-system'),
  // Services in shop bind through the namespace label; the waypoint takes workloads too ("all").
  namespace('shop', { 'istio.io/dataplane-mode': 'ambient', [USE]: 'waypoint' }),
  namespace('billing', { 'istio.io/dataplane-mode': 'ambient' }),
  namespace('other', { 'istio.io/dataplane-mode': 'ambient', [USE]: 'other-wp' }),
  waypointGateway('waypoint', 'shop', 'all'),
  service('waypoint', { namespace: 'shop', clusterIP: '10.96.0.99', selector: { [GATEWAY_NAME]: 'waypoint' }, ports: [{ name: 'mesh', port: 15008 }] }),
  pod('waypoint-7d9', { namespace: 'shop', ip: '10.1.0.99', labels: { [GATEWAY_NAME]: 'waypoint' } }),
  waypointGateway('other-wp', 'other'),
  service('other-wp', { namespace: 'other', clusterIP: '10.96.1.99', selector: { [GATEWAY_NAME]: 'other-wp' }, ports: [{ name: 'mesh', port: 15008 }] }),
  pod('other-wp-1', { namespace: 'other', ip: '10.1.1.99', labels: { [GATEWAY_NAME]: 'other-wp' } }),

  service('cart', { namespace: 'shop', clusterIP: '10.96.0.1' }),
  pod('cart-1', { namespace: 'shop', ip: '10.1.0.1', labels: { app: 'cart' } }),
  service('cart-v2', { namespace: 'shop', clusterIP: '10.96.0.2', labels: { [USE]: 'none' } }),
  pod('cart-v2-1', { namespace: 'shop', ip: '10.1.0.2', labels: { app: 'cart-v2' } }),
  // Bound by its own label to a waypoint in another namespace.
  service('orders', { namespace: 'billing', clusterIP: '10.96.2.1', labels: { [USE]: 'waypoint', 'istio.io/use-waypoint-namespace': 'shop' }, ports: [{ name: 'grpc', port: 50051 }] }),
  pod('orders-1', { namespace: 'billing', ip: '10.1.2.1', labels: { app: 'orders' } }),
  service('orders-v2', { namespace: 'billing', clusterIP: '10.96.2.2', ports: [{ name: 'grpc', port: 50051 }] }),
  pod('orders-v2-1', { namespace: 'billing', ip: '10.1.2.2', labels: { app: 'orders-v2' } }),
  service('ledger', { namespace: 'billing', clusterIP: '10.96.2.3' }),
  pod('ledger-1', { namespace: 'billing', ip: '10.1.2.3', labels: { app: 'ledger' } }),
  service('misc', { namespace: 'other', clusterIP: '10.96.1.1' }),
  pod('misc-1', { namespace: 'other', ip: '10.1.1.1', labels: { app: 'misc' } }),

  rateLimit(10),
  route('HTTPRoute', 'cart-route', 'shop', 'cart', {
    filters: [{ type: 'ExtensionRef', extensionRef: { group: 'ambit.dev', kind: 'LocalRateLimit', name: 'cart-limit' } }],
    backendRefs: [{ name: 'cart', port: 80, weight: 90 }, { name: 'cart-v2', port: 80, weight: 10 }],
  }),
  route('GRPCRoute', 'orders-grpc', 'billing', 'orders', {
    matches: [{ method: { service: 'shop.Orders', method: 'Get' } }, { method: { type: 'RegularExpression', service: 'shop\\..*' } }],
    backendRefs: [{ name: 'orders-v2', port: 50051 }],
  }),
  // A backend in another namespace is refused (no ReferenceGrant): it must not leak misc to this waypoint.
  route('HTTPRoute', 'orders-http', 'billing', 'orders', { backendRefs: [{ name: 'misc', namespace: 'other', port: 80 }] }),
  route('HTTPRoute', 'ledger-route', 'billing', 'ledger', { backendRefs: [{ name: 'ledger', port: 80 }] }),
  route('HTTPRoute', 'misc-route', 'other', 'misc', { backendRefs: [{ name: 'misc', port: 80 }] }),

  authorizationPolicy('gw-policy', 'shop', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }], rules: L7_RULES }),
  authorizationPolicy('cart-policy', 'shop', { targetRefs: [{ kind: 'Service', group: '', name: 'cart' }], rules: L7_RULES }),
  authorizationPolicy('class-policy', 'istio-system', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' }], rules: L7_RULES }),
  authorizationPolicy('selector-policy', 'shop', { selector: { matchLabels: { app: 'cart' } }, rules: [{ from: [{ source: { namespaces: ['shop'] } }] }] }),
  authorizationPolicy('other-gw-policy', 'other', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'other-wp' }], rules: L7_RULES }),
  authorizationPolicy('misc-policy', 'other', { targetRefs: [{ kind: 'Service', group: '', name: 'misc' }], rules: L7_RULES }),
  requestAuthentication('orders-jwt', 'billing', [{ kind: 'Service', group: '', name: 'orders' }]),
  requestAuthentication('misc-jwt', 'other', [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'other-wp' }]),

  destinationRule('cart-dr', 'shop', 'cart', {
    loadBalancer: { consistentHash: { httpCookie: { name: 'session', path: '/', ttl: '30s' } } },
    connectionPool: { tcp: { maxConnections: 100, connectTimeout: '500ms' }, http: { http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3, idleTimeout: '1m' } },
    outlierDetection: { consecutive5xxErrors: 5, consecutiveGatewayErrors: 2, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50, minHealthPercent: 20 },
  }, { 'ambit.dev/retry-budget': '25,5' }),
  destinationRule('orders-v2-dr', 'billing', 'orders-v2', { loadBalancer: { consistentHash: { httpHeaderName: 'x-user', ringHash: { minimumRingSize: 2048 } } } }),
  destinationRule('billing-wide', 'billing', '*.billing.svc.cluster.local'),
  destinationRule('misc-dr', 'other', 'misc'),
];

let dir: string;
let cp: ControlPlane;
let source: StaticSource;
const clients: ConfigClient[] = [];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-wp-scope-'));
  source = new StaticSource('test', OBJECTS);
  cp = await startControlPlane({ sources: [source], stateDir: dir, nodeAuthenticator: new BootstrapTokenAuthenticator(dir), grpcListen: '127.0.0.1:0', httpListen: '127.0.0.1:0' });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await cp.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Subscribes as waypoint `target`; resolves the updates matching `pred` in order. */
function subscribe(target: string): { next: (pred: (u: ConfigUpdate) => boolean) => Promise<ConfigUpdate> } {
  const c = new ConfigClient({ address: cp.grpcAddress, subscription: { waypoint: target }, accept: () => undefined, backoff: { initialMs: 50, maxMs: 200 } });
  clients.push(c);
  const seen: ConfigUpdate[] = [];
  c.on('update', (u) => seen.push(u));
  void c.start();
  return {
    next: async (pred) => {
      const until = Date.now() + 3000;
      for (;;) {
        const i = seen.findIndex(pred);
        if (i >= 0) return seen.splice(0, i + 1)[i];
        if (Date.now() > until) throw new Error('no matching update within 3 s');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

const keys = (u: ConfigUpdate): string[] => [...u.resources.keys()].sort();

it('a waypoint receives its services, their endpoints, its pods, their routes and policies, and nothing else', async () => {
  // The model has every object: anything missing below is the scope's doing, not a rejected object.
  expect(cp.problems().map((p) => `${p.kind} ${p.name}: ${p.message}`)).toEqual([
    expect.stringMatching(/^HTTPRoute orders-http: backendRef to Service other\/misc crosses namespaces/),
  ]);
  const snap = await subscribe('shop/waypoint').next((u) => u.snapshot);
  expect(keys(snap)).toEqual([
    'AUTHORIZATION:istio-system/class-policy',
    'AUTHORIZATION:shop/cart-policy',
    'AUTHORIZATION:shop/gw-policy',
    'DESTINATION_POLICY:billing/billing-wide',
    'DESTINATION_POLICY:billing/orders-v2-dr',
    'DESTINATION_POLICY:shop/cart-dr',
    'REQUEST_AUTHENTICATION:billing/orders-jwt',
    'ROUTE:GRPCRoute/billing/orders-grpc',
    'ROUTE:HTTPRoute/billing/orders-http',
    'ROUTE:HTTPRoute/shop/cart-route',
    'SERVICE:billing/orders', // bound by its own label
    'SERVICE:billing/orders-v2', // a route backend
    'SERVICE:shop/cart', // bound through the namespace label
    'SERVICE:shop/cart-v2', // opted out, but a route backend
    'WORKLOAD:Kubernetes//Pod/billing/orders-1',
    'WORKLOAD:Kubernetes//Pod/billing/orders-v2-1',
    'WORKLOAD:Kubernetes//Pod/shop/cart-1',
    'WORKLOAD:Kubernetes//Pod/shop/cart-v2-1',
    'WORKLOAD:Kubernetes//Pod/shop/waypoint-7d9', // its own pod
  ]);
  const r = (k: string) => snap.resources.get(k)!;
  expect(r('WORKLOAD:Kubernetes//Pod/shop/waypoint-7d9').workload).toMatchObject({ isWaypoint: true, protocol: 'HBONE' });
  // Bound directly too (waypoint-for: all).
  expect(r('WORKLOAD:Kubernetes//Pod/shop/cart-1').workload?.waypoint).toMatchObject({ name: 'waypoint', namespace: 'shop', addresses: ['10.96.0.99'] });
  expect(r('SERVICE:billing/orders').service?.waypoint).toMatchObject({ name: 'waypoint', namespace: 'shop', addresses: ['10.96.0.99'], hbonePort: 15008 });

  const cart = r('ROUTE:HTTPRoute/shop/cart-route').route!;
  expect(cart).toMatchObject({ kind: 'HTTP', parents: [{ serviceHostname: 'cart.shop.svc.cluster.local', serviceName: 'cart', serviceNamespace: 'shop', port: 0 }] });
  expect(cart.rules[0].filters[0].rateLimit).toEqual({ maxTokens: 10, tokensPerFill: 1, fillIntervalMs: 1000 });
  expect(cart.rules[0].backendRefs.map((b) => [b.serviceHostname, b.weight])).toEqual([['cart.shop.svc.cluster.local', 90], ['cart-v2.shop.svc.cluster.local', 10]]);

  const grpc = r('ROUTE:GRPCRoute/billing/orders-grpc').route!;
  expect(grpc.kind).toBe('GRPC');
  expect(grpc.rules[0].matches.map((m) => [m.grpcMethod, m.path])).toEqual([
    [{ type: 'EXACT', service: 'shop.Orders', method: 'Get' }, null],
    [{ type: 'REGULAR_EXPRESSION', service: 'shop\\..*', method: '' }, null],
  ]);
  expect(r('ROUTE:HTTPRoute/billing/orders-http').route?.rules[0].backendRefs[0]).toMatchObject({ serviceHostname: '', serviceName: 'misc', serviceNamespace: 'other' });

  // The GatewayClass ref stays as written, followed by the waypoints of that class.
  expect(r('AUTHORIZATION:istio-system/class-policy').authorization?.targetRefs).toEqual([
    { group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint', namespace: 'istio-system' },
    { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'other-wp', namespace: 'other' },
    { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint', namespace: 'shop' },
  ]);
  expect(r('AUTHORIZATION:shop/gw-policy').authorization).toMatchObject({ scope: 'TARGET_REFS', hasL7: true });

  expect(r('DESTINATION_POLICY:shop/cart-dr').destinationPolicy).toMatchObject({
    host: 'cart.shop.svc.cluster.local',
    trafficPolicy: {
      loadBalancer: { consistentHash: { httpCookie: { name: 'session', path: '/', ttlMs: 30000 }, ringHashMinimumRingSize: 1024 } },
      connectionPool: {
        tcp: { maxConnections: 100, connectTimeoutMs: 500 },
        http: { http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3, idleTimeoutMs: 60000 },
      },
      outlierDetection: { consecutive_5xxErrors: 5, consecutiveGatewayErrors: 2, intervalMs: 10000, baseEjectionTimeMs: 30000, maxEjectionPercent: 50, minHealthPercent: 20 },
      retryBudget: { budgetPercent: 25, minRetryConcurrency: 5 },
    },
  });
  expect(r('DESTINATION_POLICY:billing/orders-v2-dr').destinationPolicy?.trafficPolicy?.loadBalancer?.consistentHash).toMatchObject({ httpHeaderName: 'x-user', ringHashMinimumRingSize: 2048 });
});

it('the other waypoint gets its own share only', async () => {
  const snap = await subscribe('other/other-wp').next((u) => u.snapshot);
  expect(keys(snap)).toEqual([
    'AUTHORIZATION:istio-system/class-policy',
    'AUTHORIZATION:other/misc-policy',
    'AUTHORIZATION:other/other-gw-policy',
    'DESTINATION_POLICY:other/misc-dr',
    'REQUEST_AUTHENTICATION:other/misc-jwt',
    'ROUTE:HTTPRoute/other/misc-route',
    'SERVICE:other/misc',
    'WORKLOAD:Kubernetes//Pod/other/misc-1',
    'WORKLOAD:Kubernetes//Pod/other/other-wp-1',
  ]);
});

it('pushes a LocalRateLimit change as a route update, and an unbound service takes its routes and policies along', async () => {
  const wp = subscribe('shop/waypoint');
  await wp.next((u) => u.snapshot);

  source.update([rateLimit(50)]);
  const limited = await wp.next((u) => u.updated.some((r) => r.route?.name === 'cart-route'));
  expect(limited.updated.map((r) => r.route?.name)).toEqual(['cart-route']);
  expect(limited.resources.get('ROUTE:HTTPRoute/shop/cart-route')?.route?.rules[0].filters[0].rateLimit?.maxTokens).toBe(50);

  const orders = OBJECTS.find((o) => o.kind === 'Service' && o.metadata.name === 'orders')!;
  source.update([{ ...orders, metadata: { ...orders.metadata, labels: {} } }]);
  const unbound = await wp.next((u) => u.removed.length > 0);
  expect(unbound.removed.map((k) => `${k.type}:${k.name}`).sort()).toEqual([
    'DESTINATION_POLICY:billing/billing-wide',
    'DESTINATION_POLICY:billing/orders-v2-dr',
    'REQUEST_AUTHENTICATION:billing/orders-jwt',
    'ROUTE:GRPCRoute/billing/orders-grpc',
    'ROUTE:HTTPRoute/billing/orders-http',
    'SERVICE:billing/orders',
    'SERVICE:billing/orders-v2',
    'WORKLOAD:Kubernetes//Pod/billing/orders-1',
    'WORKLOAD:Kubernetes//Pod/billing/orders-v2-1',
  ]);
});
