// The model end to end in memory: objects in through a source sink, translated resources out of
// the resource table, with Istio's semantics for enrollment, endpoints, waypoints and policy.
import type { MeshModel } from '../../control-plane/model/mesh-model';
import { authorizationPolicy, namespace, object, pod, service, waypointGateway } from '../support/kube-fixtures';
import { modelWith } from '../support/model-setup';

const setup = modelWith;

const workload = (m: MeshModel, ns: string, name: string) => m.resources.get(`WORKLOAD:Kubernetes//Pod/${ns}/${name}`)?.resource.workload;
const svc = (m: MeshModel, ns: string, name: string) => m.resources.get(`SERVICE:${ns}/${name}`)?.resource.service;
const authz = (m: MeshModel, ns: string, name: string) => m.resources.get(`AUTHORIZATION:${ns}/${name}`)?.resource.authorization;

describe('enrollment (istio.io/dataplane-mode)', () => {
  it('follows the namespace label, and a pod label overrides it either way', () => {
    const { model } = setup([
      namespace('mesh', { 'istio.io/dataplane-mode': 'ambient' }),
      namespace('plain'),
      pod('a', { namespace: 'mesh', ip: '10.0.0.1' }),
      pod('b', { namespace: 'mesh', ip: '10.0.0.2', labels: { 'istio.io/dataplane-mode': 'none' } }),
      pod('c', { namespace: 'plain', ip: '10.0.0.3', labels: { 'istio.io/dataplane-mode': 'ambient' } }),
      pod('d', { namespace: 'plain', ip: '10.0.0.4' }),
    ]);
    expect(workload(model, 'mesh', 'a')?.protocol).toBe('HBONE');
    expect(workload(model, 'mesh', 'b')?.protocol).toBe('TCP');
    expect(workload(model, 'plain', 'c')?.protocol).toBe('HBONE');
    expect(workload(model, 'plain', 'd')?.protocol).toBe('TCP');
    expect(workload(model, 'mesh', 'a')).toMatchObject({ serviceAccount: 'default', node: 'node1', addresses: ['10.0.0.1'], trustDomain: 'cluster.local', ready: true });
  });

  it('re-translates pods when their namespace label changes', () => {
    const { model, sink } = setup([namespace('ns'), pod('a', { namespace: 'ns', ip: '10.0.0.1' })]);
    expect(workload(model, 'ns', 'a')?.protocol).toBe('TCP');
    sink.apply({ upsert: [namespace('ns', { 'istio.io/dataplane-mode': 'ambient' })], remove: [] });
    expect(workload(model, 'ns', 'a')?.protocol).toBe('HBONE');
  });

  it('has no workload for an unscheduled pod or one that has finished', () => {
    const done = pod('done', { ip: '10.0.0.9' });
    done.status = { ...done.status, phase: 'Succeeded' };
    const unscheduled = pod('unscheduled');
    delete unscheduled.spec!.nodeName;
    const { model } = setup([unscheduled, done]);
    expect(workload(model, 'default', 'unscheduled')).toBeUndefined();
    expect(workload(model, 'default', 'done')).toBeUndefined();
  });

  it('has a workload without addresses, never ready, for a scheduled pod whose IP is not out yet (the CNI ADD asks then)', () => {
    const { model } = setup([pod('pending', { node: 'node2', serviceAccount: 'reviews' })]);
    expect(workload(model, 'default', 'pending')).toMatchObject({ addresses: [], ready: false, node: 'node2', serviceAccount: 'reviews' });
  });
});

describe('services', () => {
  it('has ready selected pods as endpoints, with named target ports resolved per pod', () => {
    const { model } = setup([
      pod('r1', { ip: '10.0.0.1', labels: { app: 'reviews' }, ports: [{ name: 'web', containerPort: 9080 }] }),
      pod('r2', { ip: '10.0.0.2', labels: { app: 'reviews' }, ports: [{ name: 'web', containerPort: 9081 }] }),
      pod('r3', { ip: '10.0.0.3', labels: { app: 'reviews' }, ready: false }),
      pod('other', { ip: '10.0.0.4', labels: { app: 'ratings' } }),
      service('reviews', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'web' }] }),
    ]);
    const s = svc(model, 'default', 'reviews');
    expect(s).toMatchObject({ hostname: 'reviews.default.svc.cluster.local', vips: ['10.96.0.10'] });
    expect(s?.ports).toEqual([{ servicePort: 80, targetPort: 0, name: 'http', appProtocol: 'http' }]);
    expect(s?.endpoints).toEqual([
      { workloadUid: 'Kubernetes//Pod/default/r1', ports: { 80: 9080 } },
      { workloadUid: 'Kubernetes//Pod/default/r2', ports: { 80: 9081 } },
    ]);
    expect(model.indexes.serviceByVip('10.96.0.10')?.name).toBe('reviews');
    expect(model.indexes.workloadsAt('10.0.0.2').map((w) => w.name)).toEqual(['r2']);
  });

  it('moves an endpoint when a pod becomes ready or changes labels, touching only what depends on it', () => {
    const { model, sink, deltas } = setup([
      pod('p', { ip: '10.0.0.1', labels: { app: 'a' }, ready: false }),
      service('a'),
      service('b'),
      service('unrelated', { selector: { app: 'zzz' } }),
    ]);
    expect(svc(model, 'default', 'a')?.endpoints).toEqual([]);
    deltas.length = 0;
    sink.apply({ upsert: [pod('p', { ip: '10.0.0.1', labels: { app: 'a' } })], remove: [] });
    expect(svc(model, 'default', 'a')?.endpoints?.map((e) => e.workloadUid)).toEqual(['Kubernetes//Pod/default/p']);
    expect(deltas).toHaveLength(1);
    expect(deltas[0].upserted.map((r) => r.id).sort()).toEqual(['SERVICE:default/a', 'WORKLOAD:Kubernetes//Pod/default/p']);

    deltas.length = 0;
    sink.apply({ upsert: [pod('p', { ip: '10.0.0.1', labels: { app: 'b' } })], remove: [] });
    expect(svc(model, 'default', 'a')?.endpoints).toEqual([]);
    expect(svc(model, 'default', 'b')?.endpoints).toHaveLength(1);
    expect(deltas[0].upserted.map((r) => r.id).sort()).toEqual(['SERVICE:default/a', 'SERVICE:default/b', 'WORKLOAD:Kubernetes//Pod/default/p']);
  });

  it('pushes nothing when an object is re-delivered unchanged', () => {
    const objs = [pod('p', { ip: '10.0.0.1', labels: { app: 'a' } }), service('a')];
    const { sink, deltas } = setup(objs);
    deltas.length = 0;
    sink.apply({ upsert: objs, remove: [] });
    expect(deltas).toEqual([]);
  });

  it('removes the resources of removed objects', () => {
    const { model, sink } = setup([pod('p', { ip: '10.0.0.1', labels: { app: 'a' } }), service('a')]);
    sink.apply({ upsert: [], remove: ['Pod/default/p'] });
    expect(workload(model, 'default', 'p')).toBeUndefined();
    expect(svc(model, 'default', 'a')?.endpoints).toEqual([]);
  });
});

describe('waypoints (istio.io/use-waypoint)', () => {
  const ns = namespace('app', { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'wp' });
  const wpService = service('wp', { namespace: 'app', clusterIP: '10.96.0.99', selector: { 'gateway.networking.k8s.io/gateway-name': 'wp' } });

  it('binds services (the default waypoint-for) but not workloads', () => {
    const { model } = setup([ns, waypointGateway('wp', 'app'), wpService, pod('a', { namespace: 'app', ip: '10.0.0.1', labels: { app: 'a' } }), service('a', { namespace: 'app' })]);
    expect(svc(model, 'app', 'a')?.waypoint).toEqual({ name: 'wp', namespace: 'app', addresses: ['10.96.0.99'], hostname: 'wp.app.svc.cluster.local', hbonePort: 15008 });
    expect(workload(model, 'app', 'a')?.waypoint).toBeNull();
    expect(svc(model, 'app', 'wp')?.waypoint).toBeNull();
  });

  it('binds workloads for waypoint-for=all, and a pod label "none" opts out', () => {
    const { model } = setup([
      ns,
      waypointGateway('wp', 'app', 'all'),
      wpService,
      pod('a', { namespace: 'app', ip: '10.0.0.1' }),
      pod('b', { namespace: 'app', ip: '10.0.0.2', labels: { 'istio.io/use-waypoint': 'none' } }),
      pod('w', { namespace: 'app', ip: '10.0.0.3', labels: { 'gateway.networking.k8s.io/gateway-name': 'wp' } }),
    ]);
    expect(workload(model, 'app', 'a')?.waypoint?.name).toBe('wp');
    expect(workload(model, 'app', 'b')?.waypoint).toBeNull();
    expect(workload(model, 'app', 'w')).toMatchObject({ isWaypoint: true, waypoint: null, protocol: 'HBONE' });
  });

  it('keeps a binding with no address (fail closed) and warns when the waypoint does not exist', () => {
    const { model, sink } = setup([ns, service('a', { namespace: 'app' })]);
    expect(svc(model, 'app', 'a')?.waypoint).toMatchObject({ name: 'wp', addresses: [] });
    expect(model.problems()).toEqual([expect.objectContaining({ severity: 'warning', kind: 'Service', name: 'a', message: expect.stringContaining('does not exist') })]);
    // Creating the waypoint fixes both the binding and the warning.
    sink.apply({ upsert: [waypointGateway('wp', 'app'), wpService], remove: [] });
    expect(svc(model, 'app', 'a')?.waypoint?.addresses).toEqual(['10.96.0.99']);
    expect(model.problems()).toEqual([]);
  });
});

describe('authorization policies', () => {
  const ambientNs = namespace('ns', { 'istio.io/dataplane-mode': 'ambient' });

  it('translates L4 rules with Istio matching and lists the policy on the selected workloads', () => {
    const { model } = setup([
      ambientNs,
      pod('web', { namespace: 'ns', ip: '10.0.0.1', labels: { app: 'web' } }),
      pod('db', { namespace: 'ns', ip: '10.0.0.2', labels: { app: 'db' } }),
      authorizationPolicy('allow-curl', 'ns', {
        selector: { matchLabels: { app: 'web' } },
        action: 'ALLOW',
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/ns/sa/curl', 'cluster.local/ns/prod/*'], ipBlocks: ['10.1.0.0/16', '10.2.0.1'] } }], to: [{ operation: { ports: ['8080'] } }] }],
      }),
      authorizationPolicy('ns-wide', 'ns', { action: 'DENY', rules: [{ from: [{ source: { notNamespaces: ['ns'] } }] }] }),
      authorizationPolicy('mesh-wide', 'istio-system', { action: 'DENY', rules: [{ to: [{ operation: { ports: ['23'] } }] }] }),
    ]);
    const a = authz(model, 'ns', 'allow-curl');
    expect(a).toMatchObject({ scope: 'WORKLOAD_SELECTOR', action: 'ALLOW', selector: { app: 'web' }, hasL7: false, warnings: [] });
    expect(a?.l4Rules?.[0].from?.[0]).toMatchObject({
      principals: [{ exact: 'cluster.local/ns/ns/sa/curl' }, { prefix: 'cluster.local/ns/prod/' }],
      ipBlocks: [{ cidr: '10.1.0.0/16' }, { cidr: '10.2.0.1/32' }],
    });
    expect(a?.l4Rules?.[0].to?.[0].ports).toEqual([8080]);
    expect(authz(model, 'istio-system', 'mesh-wide')?.scope).toBe('GLOBAL');
    // Only selector-scoped policies are listed; namespace and mesh-wide ones apply by namespace.
    expect(workload(model, 'ns', 'web')?.authorizationPolicies).toEqual(['ns/allow-curl']);
    expect(workload(model, 'ns', 'db')?.authorizationPolicies).toEqual([]);
    expect(authz(model, 'ns', 'ns-wide')?.scope).toBe('NAMESPACE');
  });

  it('lists root-namespace selector policies on matching workloads of every namespace', () => {
    const { model } = setup([
      ambientNs,
      pod('web', { namespace: 'ns', ip: '10.0.0.1', labels: { app: 'web' } }),
      pod('db', { namespace: 'ns', ip: '10.0.0.2', labels: { app: 'db' } }),
    ]);
    const sink = model.sinkFor('later');
    sink.apply({ upsert: [authorizationPolicy('deny-web', 'istio-system', { selector: { matchLabels: { app: 'web' } }, action: 'DENY', rules: [{}] })], remove: [] });
    expect(workload(model, 'ns', 'web')?.authorizationPolicies).toEqual(['istio-system/deny-web']);
    expect(workload(model, 'ns', 'db')?.authorizationPolicies).toEqual([]);
  });

  it('fails closed when a selector policy uses L7 fields: ALLOW becomes DENY, with a warning', () => {
    const { model } = setup([
      ambientNs,
      authorizationPolicy('get-only', 'ns', {
        selector: { matchLabels: { app: 'web' } },
        action: 'ALLOW',
        rules: [{ from: [{ source: { namespaces: ['ns'] } }], to: [{ operation: { methods: ['GET'], ports: ['80'] } }] }],
      }),
    ]);
    const a = authz(model, 'ns', 'get-only');
    expect(a).toMatchObject({ action: 'DENY', hasL7: true });
    expect(a?.l4Rules?.[0].to?.[0]).toMatchObject({ ports: [80], methods: [] });
    expect(a?.l7Rules?.[0].to?.[0].methods).toEqual([{ exact: 'GET' }]);
    expect(a?.warnings?.[0]).toMatch(/no waypoint enforces it.*enforced as DENY/);
    expect(model.problems()).toEqual([expect.objectContaining({ kind: 'AuthorizationPolicy', name: 'get-only', field: '/spec/rules/0/to/0/operation/methods' })]);
  });

  it('keeps a DENY a DENY and drops its L7 conditions (it denies more, never less)', () => {
    const { model } = setup([authorizationPolicy('no-delete', 'ns', { selector: { matchLabels: { app: 'web' } }, action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }], when: [{ key: 'request.headers[x-user]', values: ['bob'] }, { key: 'source.ip', values: ['10.0.0.1'] }] }] })]);
    const a = authz(model, 'ns', 'no-delete');
    expect(a?.action).toBe('DENY');
    expect(a?.l4Rules?.[0].when?.map((w) => w.key)).toEqual(['source.ip']);
  });

  it('leaves targetRefs policies to the waypoint: action and L7 kept, not listed on workloads', () => {
    const { model } = setup([
      ambientNs,
      pod('web', { namespace: 'ns', ip: '10.0.0.1', labels: { app: 'web' } }),
      authorizationPolicy('l7', 'ns', { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'wp' }], action: 'ALLOW', rules: [{ to: [{ operation: { paths: ['/api/*'] } }] }] }),
    ]);
    expect(authz(model, 'ns', 'l7')).toMatchObject({ scope: 'TARGET_REFS', action: 'ALLOW', warnings: [], targetRefs: [{ kind: 'Gateway', name: 'wp', namespace: 'ns', group: 'gateway.networking.k8s.io' }] });
    expect(authz(model, 'ns', 'l7')?.l7Rules?.[0].to?.[0].paths).toEqual([{ prefix: '/api/' }]);
    expect(workload(model, 'ns', 'web')?.authorizationPolicies).toEqual([]);
  });

  it('marks a policy with no rules (ALLOW nothing) and honours istio.io/dry-run', () => {
    const { model } = setup([authorizationPolicy('deny-all', 'ns', {}, { 'istio.io/dry-run': 'true' })]);
    expect(authz(model, 'ns', 'deny-all')).toMatchObject({ action: 'ALLOW', emptyRules: true, dryRun: true });
  });
});

describe('other kinds', () => {
  it('qualifies DestinationRule hosts and converts durations', () => {
    const { model } = setup([
      object('DestinationRule', 'networking.istio.io/v1', 'dotted', 'bookinfo', { host: 'ratings.prod' }),
      object('DestinationRule', 'networking.istio.io/v1', 'reviews', 'bookinfo', {
        host: 'reviews',
        trafficPolicy: {
          loadBalancer: { consistentHash: { httpHeaderName: 'x-user', maglev: { tableSize: 1009 } } },
          connectionPool: { tcp: { maxConnections: 10, connectTimeout: '250ms' } },
          outlierDetection: { consecutive5xxErrors: 3, interval: '5s', baseEjectionTime: '1m' },
        },
        subsets: [{ name: 'v1', labels: { version: 'v1' } }],
      }, { annotations: { 'ambit.dev/retry-budget': '20,2' } }),
    ]);
    const dp = model.resources.get('DESTINATION_POLICY:bookinfo/reviews')?.resource.destinationPolicy;
    expect(dp?.host).toBe('reviews.bookinfo.svc.cluster.local');
    // Like Istio, only a name without a dot is expanded.
    expect(model.resources.get('DESTINATION_POLICY:bookinfo/dotted')?.resource.destinationPolicy?.host).toBe('ratings.prod');
    expect(dp?.trafficPolicy?.loadBalancer?.consistentHash).toEqual({ httpHeaderName: 'x-user', maglevTableSize: 1009 });
    expect(dp?.trafficPolicy?.connectionPool?.tcp).toEqual({ maxConnections: 10, connectTimeoutMs: 250 });
    expect(dp?.trafficPolicy?.outlierDetection).toMatchObject({ consecutive_5xxErrors: 3, intervalMs: 5000, baseEjectionTimeMs: 60000, maxEjectionPercent: 10 });
    expect(dp?.trafficPolicy?.retryBudget).toEqual({ budgetPercent: 20, minRetryConcurrency: 2 });
  });

  it('fills HTTPRoute defaults, resolves FaultInjection refs and warns on missing ones', () => {
    const route = object('HTTPRoute', 'gateway.networking.k8s.io/v1', 'reviews', 'bookinfo', {
      parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }],
      rules: [
        { matches: [{ headers: [{ name: 'X-User', value: 'jason' }] }], backendRefs: [{ name: 'reviews-v2', port: 9080 }] },
        {
          filters: [{ type: 'ExtensionRef', extensionRef: { group: 'ambit.dev', kind: 'FaultInjection', name: 'slow' } }],
          backendRefs: [{ name: 'reviews-v1', port: 9080, weight: 90 }, { name: 'reviews-v3', port: 9080, weight: 10 }],
          timeouts: { request: '2s' },
          retry: { codes: [503], attempts: 3, backoff: '100ms' },
        },
      ],
    });
    const { model, sink } = setup([route]);
    const r = model.resources.get('ROUTE:HTTPRoute/bookinfo/reviews')?.resource.route;
    expect(r?.parents).toEqual([{ serviceHostname: 'reviews.bookinfo.svc.cluster.local', serviceName: 'reviews', serviceNamespace: 'bookinfo', port: 9080 }]);
    expect(r?.rules?.[0].matches?.[0]).toMatchObject({ path: { type: 'PATH_PREFIX', value: '/' }, headers: [{ type: 'EXACT', name: 'x-user', value: 'jason' }] });
    expect(r?.rules?.[1].backendRefs?.map((b) => b.weight)).toEqual([90, 10]);
    expect(r?.rules?.[1]).toMatchObject({ timeouts: { requestMs: 2000, backendRequestMs: 0 }, retry: { codes: [503], attempts: 3, backoffMs: 100 } });
    expect(r?.rules?.[1].filters?.[0].fault).toBeUndefined();
    expect(model.problems()).toEqual([expect.objectContaining({ kind: 'HTTPRoute', message: expect.stringContaining('does not resolve') })]);

    sink.apply({ upsert: [object('FaultInjection', 'ambit.dev/v1alpha1', 'slow', 'bookinfo', { delay: { percentage: { value: 50 }, fixedDelay: '1.5s' }, abort: { httpStatus: 503, percentage: { value: 10 } } })], remove: [] });
    const fixed = model.resources.get('ROUTE:HTTPRoute/bookinfo/reviews')?.resource.route;
    expect(fixed?.rules?.[1].filters?.[0].fault).toEqual({ delayPercent: 50, fixedDelayMs: 1500, abortPercent: 10, abortHttpStatus: 503, abortGrpcStatus: 0 });
    expect(model.problems()).toEqual([]);
  });

  it('refuses cross-namespace route parents and backends (no ReferenceGrant support yet)', () => {
    const { model } = setup([
      object('HTTPRoute', 'gateway.networking.k8s.io/v1', 'hijack', 'evil', {
        parentRefs: [{ group: '', kind: 'Service', name: 'payments', namespace: 'shop' }, { group: '', kind: 'Service', name: 'own' }],
        rules: [{ backendRefs: [{ name: 'sniffer', port: 80 }, { name: 'payments', namespace: 'shop', port: 80 }] }],
      }),
    ]);
    const r = model.resources.get('ROUTE:HTTPRoute/evil/hijack')?.resource.route;
    expect(r?.parents?.map((p) => p.serviceHostname)).toEqual(['own.evil.svc.cluster.local']);
    expect(r?.rules?.[0].backendRefs?.map((b) => b.serviceHostname)).toEqual(['sniffer.evil.svc.cluster.local', '']);
    expect(model.problems().map((p) => p.field)).toEqual(['/spec/parentRefs/0', '/spec/rules/0/backendRefs/1/namespace']);
  });

  it('answers the CA: which identities run on which node', () => {
    const { model, sink } = setup([pod('a', { node: 'node1', serviceAccount: 'web' }), pod('b', { node: 'node2', ip: '10.0.0.2', serviceAccount: 'db' })]);
    expect(model.hasIdentityOnNode('node1', 'default', 'web')).toBe(true);
    expect(model.hasIdentityOnNode('node2', 'default', 'web')).toBe(false);
    expect(model.hasIdentityOnNode('node2', 'default', 'db')).toBe(true);
    sink.apply({ upsert: [], remove: ['Pod/default/b'] });
    expect(model.hasIdentityOnNode('node2', 'default', 'db')).toBe(false);
  });

  it('keeps the first source\'s object when two sources define it, and reports the conflict', () => {
    const { model } = setup([service('a', { clusterIP: '10.96.0.1' })]);
    const other = model.sinkFor('other');
    other.apply({ upsert: [service('a', { clusterIP: '10.96.0.2' })], remove: [] });
    expect(svc(model, 'default', 'a')?.vips).toEqual(['10.96.0.1']);
    expect(model.problems()).toEqual([expect.objectContaining({ severity: 'error', source: 'other', message: expect.stringContaining('also defined by source test') })]);
  });
});
