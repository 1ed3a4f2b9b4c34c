// The waypoint controller and leader election through the real @kubernetes/client-node against
// the test API server: a Gateway of class ambit-waypoint gets its Deployment, Service and
// ServiceAccount (owned by it) and status conditions; only the Lease holder writes; every request
// the control plane makes is one the documented RBAC grants.
import { rbacAllows } from '../../control-plane/kube/rbac';
import { eventually, startKubeControlPlane, WAYPOINT_SETTINGS, type KubeControlPlane } from '../support/kube-api-server/control-plane-harness';
import { KubeApiServer, type RecordedRequest } from '../support/kube-api-server/server';

const gateway = (name: string, ns: string, listeners = [{ name: 'mesh', port: 15008, protocol: 'HBONE' }]): Record<string, any> => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name, namespace: ns, labels: { 'istio.io/waypoint-for': 'all' } },
  spec: { gatewayClassName: 'ambit-waypoint', listeners },
});

const condition = (gw: Record<string, any> | undefined, type: string): Record<string, any> | undefined =>
  (gw?.status?.conditions as Array<Record<string, any>> | undefined)?.find((c) => c.type === type);

const WRITES = new Set(['create', 'update', 'patch', 'delete']);
const writesBy = (api: KubeApiServer, user: string, resource?: string): RecordedRequest[] =>
  api.requests.filter((r) => WRITES.has(r.verb) && r.user === user && r.resource !== 'coordination.k8s.io/leases' && (resource === undefined || r.resource === resource));
const rbacName = (r: RecordedRequest): string => (r.subresource ? `${r.resource}/${r.subresource}` : r.resource);

let api: KubeApiServer;
const planes: KubeControlPlane[] = [];

beforeEach(async () => {
  api = await KubeApiServer.start();
  api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'waypoint' } } });
  api.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } },
    spec: { nodeName: 'node1', serviceAccountName: 'web', containers: [{ name: 'app', image: 'example/web:1' }] },
    status: { phase: 'Running', podIP: '10.1.0.11', conditions: [{ type: 'Ready', status: 'True' }] },
  });
});

afterEach(async () => {
  await Promise.all(planes.splice(0).map((p) => p.close()));
  await api.close();
});

async function start(user = 'test', identity = 'replica-a', resyncMs?: number): Promise<KubeControlPlane> {
  const p = await startKubeControlPlane(api, { user, identity, resyncMs });
  planes.push(p);
  return p;
}

it('creates the Deployment, Service and ServiceAccount of an ambit-waypoint Gateway, owned by it, and reports Accepted/Programmed with the address', async () => {
  const h = await start();
  const gw = api.apply(gateway('waypoint', 'shop'));
  const deployment = await eventually('the waypoint Deployment', () => api.get('Deployment', 'shop', 'waypoint'));
  const service = await eventually('the waypoint Service', () => api.get('Service', 'shop', 'waypoint'));
  const account = await eventually('the waypoint ServiceAccount', () => api.get('ServiceAccount', 'shop', 'waypoint'));

  const owner = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'waypoint', uid: gw.metadata.uid, controller: true };
  for (const o of [deployment, service, account]) {
    expect(o.metadata.ownerReferences).toEqual([owner]);
    expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'ambit-control-plane', 'gateway.networking.k8s.io/gateway-name': 'waypoint' });
  }
  // The pod template is the local runtime's waypoint pod (cli/waypoint/waypoint-manifests.ts).
  const template = deployment.spec.template;
  expect(deployment.spec.selector).toEqual({ matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } });
  expect(template.metadata.labels).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'waypoint', 'istio.io/dataplane-mode': 'none' });
  expect(template.spec.serviceAccountName).toBe('waypoint');
  const [container] = template.spec.containers;
  expect(container).toMatchObject({ name: 'waypoint', image: WAYPOINT_SETTINGS.image, command: ['ambit', 'waypoint'] });
  expect(Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]))).toMatchObject({
    AMBIT_WAYPOINT_NAME: 'shop/waypoint',
    AMBIT_CONTROL_PLANE: WAYPOINT_SETTINGS.controlPlaneAddress,
    AMBIT_NODE_TOKEN_FILE: '/var/run/secrets/ambit/token',
  });
  expect(container.readinessProbe.httpGet).toEqual({ path: '/healthz/ready', port: 15021 });
  expect(template.spec.volumes[0].projected.sources[0].serviceAccountToken).toEqual({ audience: 'ambit', expirationSeconds: 3600, path: 'token' });
  expect(service.spec.ports).toEqual([expect.objectContaining({ name: 'mesh', port: 15008, targetPort: 15008 })]);
  expect(service.spec.selector).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'waypoint' });

  const ip = service.spec.clusterIP as string;
  const status = await eventually('Programmed', () => {
    const g = api.get('Gateway', 'shop', 'waypoint');
    return condition(g, 'Programmed')?.status === 'True' ? g : undefined;
  });
  expect(condition(status, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted', observedGeneration: 1 });
  expect(condition(status, 'Programmed')).toMatchObject({ status: 'True', reason: 'Programmed', message: expect.stringContaining(ip) });
  expect(status?.status.addresses).toEqual([{ type: 'IPAddress', value: ip }]);

  // The model binds the namespace's pod to the waypoint at that address.
  const agent = h.agent('node1');
  await eventually('web-1 bound to the waypoint', () => agent.resources.get('WORKLOAD:Kubernetes//Pod/shop/web-1')?.workload?.waypoint?.addresses?.[0] === ip);

  // A reconcile with nothing new writes nothing (a label edit does not change the generation).
  await h.kube.waypoints.idle();
  const written = (): number => writesBy(api, 'test').filter((r) => r.status === 200 || r.status === 201).length;
  const before = written();
  const reconciles = h.logs.length;
  api.modify('Gateway', 'shop', 'waypoint', (g) => (g.metadata.labels.team = 'payments'));
  await eventually('the edit seen', () => h.cp.model.kube.getByName<any>('Gateway', 'shop', 'waypoint')?.metadata.labels.team === 'payments');
  await h.kube.waypoints.idle();
  expect(written()).toBe(before);
  expect(h.logs.slice(reconciles).filter((l) => l.component === 'waypoint-controller' && l.level !== 'debug')).toEqual([]);
  for (const r of api.requests.filter((x) => x.user === 'test')) expect([r.verb, rbacName(r), rbacAllows(r.verb, rbacName(r))]).toEqual([r.verb, rbacName(r), true]);
});

it('marks a Gateway without an HBONE listener not Accepted, naming the fix, and creates nothing', async () => {
  await start();
  api.apply(gateway('broken', 'shop', [{ name: 'http', port: 80, protocol: 'HTTP' }]));
  const gw = await eventually('a status', () => condition(api.get('Gateway', 'shop', 'broken'), 'Accepted') && api.get('Gateway', 'shop', 'broken'));
  expect(condition(gw, 'Accepted')).toMatchObject({ status: 'False', reason: 'Invalid', message: expect.stringContaining('protocol HBONE') });
  expect(condition(gw, 'Programmed')).toMatchObject({ status: 'False', reason: 'Invalid' });
  expect(api.get('Deployment', 'shop', 'broken')).toBeUndefined();

  // Fixing the Gateway makes it work; the conditions' observedGeneration follows.
  api.modify('Gateway', 'shop', 'broken', (g) => (g.spec.listeners = [{ name: 'mesh', port: 15008, protocol: 'HBONE' }]));
  const fixed = await eventually('Programmed', () => condition(api.get('Gateway', 'shop', 'broken'), 'Programmed')?.status === 'True' && api.get('Gateway', 'shop', 'broken'));
  expect(condition(fixed, 'Accepted')).toMatchObject({ status: 'True', observedGeneration: 2 });
  expect(api.get('Deployment', 'shop', 'broken')).toBeDefined();
});

it('repairs drift: a deleted Deployment is recreated, an edited one restored, replicas left to the user', async () => {
  const h = await start('test', 'replica-a', 300);
  api.apply(gateway('waypoint', 'shop'));
  await eventually('the Deployment', () => api.get('Deployment', 'shop', 'waypoint'));
  api.modify('Deployment', 'shop', 'waypoint', (d) => {
    d.spec.replicas = 3;
    d.spec.template.spec.containers[0].image = 'someone/else:2';
  });
  await eventually('the image restored', () => api.get('Deployment', 'shop', 'waypoint')?.spec.template.spec.containers[0].image === WAYPOINT_SETTINGS.image);
  expect(api.get('Deployment', 'shop', 'waypoint')?.spec.replicas).toBe(3);
  api.remove('Deployment', 'shop', 'waypoint');
  await eventually('the Deployment recreated', () => api.get('Deployment', 'shop', 'waypoint'));
  expect(h.logs.some((l) => l.msg === 'created Deployment shop/waypoint')).toBe(true);
});

it('refuses to take over a Service it does not own, and says so on the Gateway', async () => {
  api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'waypoint', namespace: 'shop' }, spec: { selector: { app: 'mine' }, ports: [{ port: 80 }] } });
  await start();
  api.apply(gateway('waypoint', 'shop'));
  const gw = await eventually('Programmed False', () => condition(api.get('Gateway', 'shop', 'waypoint'), 'Programmed')?.status === 'False' && api.get('Gateway', 'shop', 'waypoint'));
  expect(condition(gw, 'Programmed')).toMatchObject({ reason: 'Invalid', message: expect.stringMatching(/Service shop\/waypoint exists and is not managed by this Gateway; delete it/) });
  expect(api.get('Service', 'shop', 'waypoint')?.spec.selector).toEqual({ app: 'mine' });
});

it('lets only the Lease holder write; on stop the Lease is released and the other replica takes over at once', async () => {
  api.addUser('replica-a');
  api.addUser('replica-b');
  const a = await start('replica-a', 'replica-a');
  await eventually('replica-a leads', () => a.kube.leader.isLeader);
  const b = await start('replica-b', 'replica-b');
  api.apply(gateway('one', 'shop'));
  await eventually('one Programmed', () => condition(api.get('Gateway', 'shop', 'one'), 'Programmed')?.status === 'True');
  expect(api.get('Lease', 'ambit-system', 'ambit-control-plane')?.spec.holderIdentity).toBe('replica-a');
  expect(b.kube.leader.isLeader).toBe(false);
  expect(writesBy(api, 'replica-a').length).toBeGreaterThanOrEqual(4); // sa, service, deployment, status
  expect(writesBy(api, 'replica-b')).toEqual([]);
  // Both replicas serve configuration.
  await eventually('replica-b serves one', () => b.cp.model.kube.getByName('Gateway', 'shop', 'one'));

  const released = Date.now();
  await a.kube.stopControllers();
  expect(api.get('Lease', 'ambit-system', 'ambit-control-plane')?.spec.holderIdentity).toBe('');
  await eventually('replica-b leads', () => b.kube.leader.isLeader);
  // Well before the 1.5 s lease duration: the release, not the expiry, handed it over.
  expect(Date.now() - released).toBeLessThan(1000);
  expect(api.get('Lease', 'ambit-system', 'ambit-control-plane')?.spec).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 0 });
  const handover = api.requests.length;
  api.apply(gateway('two', 'shop'));
  await eventually('two Programmed', () => condition(api.get('Gateway', 'shop', 'two'), 'Programmed')?.status === 'True');
  const after = api.requests.slice(handover).filter((r) => WRITES.has(r.verb) && r.resource !== 'coordination.k8s.io/leases');
  expect(after.filter((r) => r.user === 'replica-b').map((r) => `${r.verb} ${rbacName(r)}`)).toEqual(
    expect.arrayContaining(['create serviceaccounts', 'create services', 'create apps/deployments', 'update gateway.networking.k8s.io/gateways/status']),
  );
  expect(after.filter((r) => r.user === 'replica-a')).toEqual([]);
  for (const r of api.requests.filter((x) => x.user === 'replica-a' || x.user === 'replica-b')) expect([r.verb, rbacName(r), rbacAllows(r.verb, rbacName(r))]).toEqual([r.verb, rbacName(r), true]);
});

it('takes the Lease over from a holder that stopped renewing, after the lease duration', async () => {
  // A holder that crashed: its Lease stays, unrenewed.
  api.apply({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'ambit-control-plane', namespace: 'ambit-system' },
    spec: { holderIdentity: 'crashed', leaseDurationSeconds: 1, renewTime: new Date().toISOString(), leaseTransitions: 4 },
  });
  const started = Date.now();
  const h = await start('test', 'replica-a');
  await eventually('replica-a leads', () => h.kube.leader.isLeader, 5000);
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  expect(api.get('Lease', 'ambit-system', 'ambit-control-plane')?.spec).toMatchObject({ holderIdentity: 'replica-a', leaseTransitions: 5 });
});
