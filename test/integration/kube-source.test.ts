// The Kubernetes source through the real @kubernetes/client-node against the test API server
// (test/support/kube-api-server): real HTTP, list + chunked watch, resourceVersions, bookmarks,
// 410 Gone after compaction. What an agent subscribed over gRPC receives is the proof.
import type { ConfigClient } from '../../common/config-client';
import { rbacAllows } from '../../control-plane/kube/rbac';
import { eventually, resourcesOf, startKubeControlPlane, type KubeControlPlane } from '../support/kube-api-server/control-plane-harness';
import { KubeApiServer } from '../support/kube-api-server/server';

const AMBIENT = { 'istio.io/dataplane-mode': 'ambient' };

const namespace = (name: string, labels: Record<string, string> = {}): Record<string, any> => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

function pod(name: string, ns: string, node: string, ip: string, labels: Record<string, string> = { app: 'web' }): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: { nodeName: node, serviceAccountName: 'web', containers: [{ name: 'app', image: 'example/web:1', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

const service = (name: string, ns: string): Record<string, any> => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
});

const workload = (c: ConfigClient, ns: string, name: string): any => c.resources.get(`WORKLOAD:Kubernetes//Pod/${ns}/${name}`)?.workload;
const protocolOf = (c: ConfigClient, ns: string, name: string): string | undefined => workload(c, ns, name)?.protocol;

let api: KubeApiServer;
let h: KubeControlPlane | undefined;

beforeEach(async () => {
  api = await KubeApiServer.start();
  api.apply(namespace('shop', AMBIENT));
  api.apply(namespace('legacy'));
  api.apply(pod('web-1', 'shop', 'node1', '10.1.0.11'));
  api.apply(pod('web-2', 'shop', 'node2', '10.1.0.12'));
  api.apply(pod('old-1', 'legacy', 'node1', '10.1.0.21', { app: 'old' }));
  api.apply(service('web', 'shop'));
});

afterEach(async () => {
  await h?.close();
  h = undefined;
  await api.close();
});

describe('enrollment', () => {
  it('serves ambient-labelled namespaces\' pods as enrolled (HBONE) workloads to an agent, others as TCP', async () => {
    h = await startKubeControlPlane(api);
    const agent = h.agent('node1');
    await eventually('the first snapshot', () => agent.version);
    expect([...resourcesOf(agent, 'WORKLOAD').keys()].sort()).toEqual([
      'WORKLOAD:Kubernetes//Pod/legacy/old-1',
      'WORKLOAD:Kubernetes//Pod/shop/web-1',
      'WORKLOAD:Kubernetes//Pod/shop/web-2',
    ]);
    expect(workload(agent, 'shop', 'web-1')).toMatchObject({ protocol: 'HBONE', node: 'node1', serviceAccount: 'web', addresses: ['10.1.0.11'], ready: true });
    expect(protocolOf(agent, 'legacy', 'old-1')).toBe('TCP');
    // The Service got its cluster IP from the API server, and its endpoints from the pods.
    const svc = agent.resources.get('SERVICE:shop/web')?.service;
    expect(svc?.vips).toEqual([api.get('Service', 'shop', 'web')?.spec.clusterIP]);
    expect(svc?.endpoints).toHaveLength(2);
    expect(await (await fetch(`${h.cp.httpAddress}/healthz/ready`)).text()).toContain('ready');
  });

  it('unenrolls when the namespace label goes, and a pod label (none) overrides the namespace', async () => {
    h = await startKubeControlPlane(api);
    const agent = h.agent('node1');
    await eventually('web-1 enrolled', () => protocolOf(agent, 'shop', 'web-1') === 'HBONE');

    api.modify('Namespace', undefined, 'shop', (ns) => delete ns.metadata.labels['istio.io/dataplane-mode']);
    await eventually('web-1 and web-2 unenrolled', () => protocolOf(agent, 'shop', 'web-1') === 'TCP' && protocolOf(agent, 'shop', 'web-2') === 'TCP');

    api.modify('Namespace', undefined, 'shop', (ns) => (ns.metadata.labels = { ...ns.metadata.labels, ...AMBIENT }));
    api.modify('Pod', 'shop', 'web-2', (p) => (p.metadata.labels['istio.io/dataplane-mode'] = 'none'));
    await eventually('web-1 enrolled again, web-2 opted out', () => protocolOf(agent, 'shop', 'web-1') === 'HBONE' && protocolOf(agent, 'shop', 'web-2') === 'TCP');

    // A pod label enrolls a pod of a namespace that is not ambient.
    api.modify('Pod', 'legacy', 'old-1', (p) => (p.metadata.labels = { ...p.metadata.labels, ...AMBIENT }));
    await eventually('old-1 enrolled by its own label', () => protocolOf(agent, 'legacy', 'old-1') === 'HBONE');

    api.remove('Pod', 'shop', 'web-1');
    await eventually('web-1 gone', () => workload(agent, 'shop', 'web-1') === undefined);
  });
});

describe('EndpointSlices (issue 7)', () => {
  const slice = (addresses: Array<{ ip: string; ready?: boolean; pod?: string }>): Record<string, any> => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'db-manual', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': 'staff' } },
    addressType: 'IPv4',
    ports: [{ name: 'tcp-db', port: 5432, protocol: 'TCP' }],
    endpoints: addresses.map((a) => ({
      addresses: [a.ip],
      conditions: { ready: a.ready ?? true },
      ...(a.pod ? { targetRef: { kind: 'Pod', namespace: 'shop', name: a.pod } } : {}),
    })),
  });

  it('gives a Service without a selector the endpoints of its slices, and follows slice updates', async () => {
    // A database outside the cluster, behind a Service without a selector.
    api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'shop' }, spec: { ports: [{ name: 'tcp-db', port: 5432 }] } });
    api.apply(slice([{ ip: '192.0.2.10' }, { ip: '192.0.2.11', ready: false }]));
    h = await startKubeControlPlane(api);
    const agent = h.agent('node1');
    const endpoints = (): any[] | undefined => agent.resources.get('SERVICE:shop/db')?.service?.endpoints;
    await eventually('the slice\'s ready address as the endpoint', () => endpoints()?.length === 1);
    // Decoded from the gRPC stream: an address endpoint has no workload uid.
    expect(endpoints()).toEqual([expect.objectContaining({ workloadUid: '', address: '192.0.2.10', ports: { 5432: 5432 } })]);

    // The controller that manages the slice moves the database, and adds a pod of the mesh to it.
    api.modify('EndpointSlice', 'shop', 'db-manual', (o) => {
      o.endpoints = slice([{ ip: '192.0.2.11' }, { ip: '10.1.0.11', pod: 'web-1' }]).endpoints;
    });
    await eventually('the updated endpoints', () => endpoints()?.some((e) => e.address === '192.0.2.11'));
    expect(endpoints()).toEqual([
      expect.objectContaining({ workloadUid: 'Kubernetes//Pod/shop/web-1', address: '', ports: { 5432: 5432 } }),
      expect.objectContaining({ workloadUid: '', address: '192.0.2.11', ports: { 5432: 5432 } }),
    ]);

    api.remove('EndpointSlice', 'shop', 'db-manual');
    await eventually('no endpoints once the slice is gone', () => endpoints()?.length === 0);
    // The Service with a selector kept its pod endpoints throughout.
    expect(agent.resources.get('SERVICE:shop/web')?.service?.endpoints).toHaveLength(2);
    // Listed and watched cluster-wide, with exactly the RBAC docs/kubernetes.md lists.
    const sliceRequests = api.requests.filter((r) => r.resource === 'discovery.k8s.io/endpointslices');
    expect(new Set(sliceRequests.map((r) => r.verb))).toEqual(new Set(['list', 'watch']));
    for (const r of sliceRequests) expect([r.verb, rbacAllows(r.verb, r.resource)]).toEqual([r.verb, true]);
  });
});

describe('list/watch protocol', () => {
  const podRequests = (verb: string): Array<{ query: Record<string, string> }> => api.requests.filter((r) => r.resource === 'pods' && r.verb === verb);

  it('after a watch expiry (410 Gone) re-lists and loses no change made meanwhile, deletions included', async () => {
    h = await startKubeControlPlane(api);
    const agent = h.agent('node1');
    await eventually('snapshot', () => protocolOf(agent, 'shop', 'web-2'));
    const listsBefore = podRequests('list').length;

    // The watch is cut, and before the informer can resume, history is compacted past its
    // resourceVersion: resuming gets ERROR 410 Expired and only a new list can catch up.
    api.holdWatches();
    expect(api.closeWatches('pods')).toBe(1);
    await eventually('the informer to ask for a new pod watch', () => api.requests.some((r) => r.resource === 'pods' && r.verb === 'watch' && r.status === undefined));
    const stale = Number(h.kube.informers.informer('Pod').resourceVersion);
    api.remove('Pod', 'shop', 'web-1');
    api.apply(pod('web-3', 'shop', 'node1', '10.1.0.13'));
    api.modify('Pod', 'shop', 'web-2', (p) => (p.metadata.labels['istio.io/dataplane-mode'] = 'none'));
    api.compact();
    api.releaseWatches();

    await eventually('every change made during the expiry', () =>
      workload(agent, 'shop', 'web-1') === undefined && protocolOf(agent, 'shop', 'web-3') === 'HBONE' && protocolOf(agent, 'shop', 'web-2') === 'TCP',
    );
    expect(podRequests('list').length).toBe(listsBefore + 1);
    // The resumed watch (answered 410), then a watch from the new list's resourceVersion.
    await eventually('a watch from the new list', () => podRequests('watch').length === 3 && api.openWatches('pods') === 1);
    const [, resumed, fresh] = podRequests('watch').map((r) => Number(r.query.resourceVersion));
    expect(resumed).toBe(stale);
    expect(fresh).toBeGreaterThanOrEqual(api.store.compactedResourceVersion);
    expect(agent.resources.get('SERVICE:shop/web')?.service?.endpoints).toHaveLength(2); // web-2, web-3
  });

  it('resumes a watch the server closed from its last resourceVersion, without a re-list', async () => {
    h = await startKubeControlPlane(api);
    const agent = h.agent('node2');
    await eventually('snapshot', () => protocolOf(agent, 'shop', 'web-2'));
    const lists = podRequests('list').length;
    const rv = h.kube.informers.informer('Pod').resourceVersion;
    expect(api.closeWatches('pods')).toBe(1);
    await eventually('the pod watch reopened', () => api.openWatches('pods') === 1 && podRequests('watch').length === 2);
    expect(podRequests('watch')[1].query).toMatchObject({ resourceVersion: rv, allowWatchBookmarks: 'true' });
    expect(podRequests('watch')[1].query.timeoutSeconds).toMatch(/^\d+$/);

    api.apply(pod('web-4', 'shop', 'node2', '10.1.0.14'));
    await eventually('a pod created after the resume', () => protocolOf(agent, 'shop', 'web-4') === 'HBONE');
    expect(podRequests('list').length).toBe(lists);
  });

  it('advances the resourceVersion on bookmarks, so a watch resumed after compaction needs no re-list', async () => {
    h = await startKubeControlPlane(api);
    const agent = h.agent('node1');
    await eventually('snapshot', () => agent.version);
    const informer = h.kube.informers.informer('Pod');
    // Other resources move the store's resourceVersion; the pod watch has seen none of it.
    api.apply(namespace('other'));
    api.apply(service('db', 'shop'));
    expect(Number(informer.resourceVersion)).toBeLessThan(api.store.resourceVersion);
    expect(api.sendBookmarks()).toBeGreaterThanOrEqual(1);
    const marked = String(api.store.resourceVersion);
    await eventually('the bookmark to reach the pod informer', () => informer.resourceVersion === marked);

    // A bookmark, then the watch cut and history compacted, all at once (leases keep writing):
    // the watch resumes from the bookmark, which compaction did not outdate, so no 410, no list.
    const lists = podRequests('list').length;
    const watches = podRequests('watch').length;
    api.holdWatches();
    api.sendBookmarks();
    const now = String(api.store.resourceVersion);
    api.closeWatches('pods');
    api.compact();
    await eventually('the pod watch resumed', () => podRequests('watch').length === watches + 1);
    api.releaseWatches();
    await eventually('the pod watch open', () => api.openWatches('pods') === 1);
    expect(podRequests('watch').at(-1)?.query.resourceVersion).toBe(now);
    api.apply(pod('web-5', 'shop', 'node1', '10.1.0.15'));
    await eventually('a pod created after the resume', () => protocolOf(agent, 'shop', 'web-5') === 'HBONE');
    expect(podRequests('list').length).toBe(lists);
  });
});

describe('failures', () => {
  it('retries a refused list with back-off and a log line naming the fix, and serves once it succeeds', async () => {
    api.failRequests({ verb: 'list', resource: 'pods' }, 403, 3, 'Forbidden');
    h = await startKubeControlPlane(api);
    const lists = api.requests.filter((r) => r.resource === 'pods' && r.verb === 'list');
    expect(lists.map((r) => r.status)).toEqual([403, 403, 403, 200]);
    const warnings = h.logs.filter((l) => l.level === 'warn' && l.resource === '/api/v1/pods' && l.code === 'AMBIT_ERR_KUBE_API');
    expect(warnings).toHaveLength(3);
    expect(warnings[0].msg).toMatch(/list\/watch \/api\/v1\/pods failed: HTTP 403: .*lacks this permission: see the RBAC list in docs\/kubernetes.md; retrying in \d+ ms/);
    expect(warnings.map((w) => w.attempt)).toEqual([1, 2, 3]);
    // Back-off: each retry waited at least half of a doubling ceiling (50, 100, 200 ms).
    warnings.forEach((w, i) => expect(w.retryInMs).toBeGreaterThanOrEqual((50 * 2 ** i) / 2));
    const agent = h.agent('node1');
    await eventually('workloads served', () => protocolOf(agent, 'shop', 'web-1') === 'HBONE');
  });

  it('retries a failing watch with back-off, reports it meanwhile, and resumes without a re-list', async () => {
    h = await startKubeControlPlane(api);
    const agent = h.agent('node1');
    await eventually('snapshot', () => protocolOf(agent, 'shop', 'web-1'));
    const lists = api.requests.filter((r) => r.resource === 'pods' && r.verb === 'list').length;
    api.failRequests({ verb: 'watch', resource: 'pods' }, 500, 2);
    api.closeWatches('pods');
    const problem = await eventually('the failure at /debug/problems', () => h!.cp.problems().find((p) => p.kind === 'Pod'));
    // (The client's Watch keeps only the status line of a refused watch, not its Status body.)
    expect(problem.message).toBe('list/watch /api/v1/pods failed: HTTP 500: Internal Server Error; the objects already known stay in effect');
    await eventually('the problem cleared', () => h!.cp.problems().length === 0 && api.openWatches('pods') === 1);
    const watches = api.requests.filter((r) => r.resource === 'pods' && r.verb === 'watch').slice(-3);
    expect(watches.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(watches[2].at - watches[1].at).toBeGreaterThanOrEqual(25); // backed off (50 ms doubling, jittered down to half)
    expect(api.requests.filter((r) => r.resource === 'pods' && r.verb === 'list').length).toBe(lists);
    api.apply(pod('web-6', 'shop', 'node1', '10.1.0.16'));
    await eventually('a pod created after the recovery', () => protocolOf(agent, 'shop', 'web-6') === 'HBONE');
  });

  it('refuses to start, naming the resource and the error, when the API never answers a list', async () => {
    api.failRequests({ verb: 'list', resource: 'services' }, 401, 1000, 'Unauthorized');
    // (The time limit leaves room for jest's one-off source-map work on the client's first stack trace.)
    await expect(startKubeControlPlane(api, { syncTimeoutMs: 4000 })).rejects.toMatchObject({
      code: 'AMBIT_ERR_SOURCE_UNAVAILABLE',
      message: expect.stringMatching(
        /^the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ did not deliver a first list within 4000 ms \(\/api\/v1\/services: list\/watch \/api\/v1\/services failed: HTTP 401: Unauthorized; the credentials in the kubeconfig \(or the pod's service-account token\) were refused\); check --kubeconfig/,
      ),
    });
    expect(api.requests.filter((r) => r.resource === 'services' && r.verb === 'list').length).toBeGreaterThan(2);
    // Nothing is left watching after the failed start.
    await eventually('watches closed', () => api.openWatches() === 0);
  });

  it('treats an API that is not served (CRD not installed) as empty, and picks it up once it is', async () => {
    api.unserve('gateway.networking.k8s.io/grpcroutes');
    h = await startKubeControlPlane(api);
    expect(h.cp.model.synced).toBe(true);
    api.serve('gateway.networking.k8s.io/grpcroutes');
    api.apply({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GRPCRoute',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
    });
    await eventually('the GRPCRoute in the model', () => h!.cp.model.kube.getByName('GRPCRoute', 'shop', 'web'));
    expect(h.logs.some((l) => l.level === 'info' && /grpcroutes is not served \(CRD not installed\?\)/.test(l.msg))).toBe(true);
  });

  it('keeps the last good version of an object that turns invalid, and reports it; a newer core field is dropped', async () => {
    const policy = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'allow-web', namespace: 'shop' },
      spec: { action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/web'] } }] }] },
    };
    api.apply(policy);
    h = await startKubeControlPlane(api);
    const agent = h.agent('node1');
    await eventually('the policy served', () => agent.resources.get('AUTHORIZATION:shop/allow-web'));

    // A field this version of Ambit's schema does not know, on a Pod (a newer API server's). A
    // list drops it in the client's typed models; a watch event carries it, and the source drops it.
    api.modify('Pod', 'shop', 'web-1', (p) => {
      p.spec.exampleFutureField = 'on';
      p.metadata.labels.tier = 'front';
    });
    await eventually('the pod update', () => workload(agent, 'shop', 'web-1')?.labels?.tier === 'front');
    expect(protocolOf(agent, 'shop', 'web-1')).toBe('HBONE');
    expect(h.logs.find((l) => l.msg === 'dropped fields unknown to the schema')).toMatchObject({ key: 'Pod/shop/web-1', fields: ['/spec/exampleFutureField'] });
    expect(h.cp.model.kube.getByName<any>('Pod', 'shop', 'web-1')?.spec.exampleFutureField).toBeUndefined();

    api.modify('AuthorizationPolicy', 'shop', 'allow-web', (p) => (p.spec.rules[0].from[0].source.principalz = ['x']));
    const found = await eventually('a problem for allow-web', () => h!.cp.problems().find((p) => p.name === 'allow-web'));
    expect(found).toMatchObject({ severity: 'error', kind: 'AuthorizationPolicy', namespace: 'shop', field: '/spec/rules/0/from/0/source/principalz' });
    expect(found.message).toMatch(/unknown field "principalz".*kubectl edit authorizationpolicies -n shop allow-web/);
    expect(h.cp.model.kube.getByName<any>('AuthorizationPolicy', 'shop', 'allow-web')?.spec.rules[0].from[0].source.principals).toEqual(['cluster.local/ns/shop/sa/web']);

    api.remove('AuthorizationPolicy', 'shop', 'allow-web');
    await eventually('the policy removed and its problem cleared', () => agent.resources.get('AUTHORIZATION:shop/allow-web') === undefined && h!.cp.problems().length === 0);
  });
});
