// The outbound plan: where a captured connection goes, from the mesh view alone.
import { MeshView, type Service, type Workload } from '../../agent/model/mesh-view';
import { planOutbound, type PlanContext } from '../../agent/proxy/outbound-plan';
import { RoundRobin } from '../../agent/proxy/round-robin';
import type { Resource__Output } from '../../common/proto/generated/ambit/v1/Resource';

function workload(name: string, node: string, ip: string, extra: Partial<Workload> = {}): Workload {
  return {
    uid: `Kubernetes//Pod/demo/${name}`,
    name,
    namespace: 'demo',
    serviceAccount: name.split('-')[0],
    node,
    addresses: [ip],
    labels: {},
    protocol: 'HBONE',
    waypoint: null,
    ready: true,
    trustDomain: 'cluster.local',
    canonicalName: name,
    canonicalRevision: 'v1',
    workloadName: name,
    authorizationPolicies: [],
    isWaypoint: false,
    ...extra,
  };
}

function service(name: string, vip: string, endpoints: Workload[], extra: Partial<Service> = {}): Service {
  return {
    name,
    namespace: 'demo',
    hostname: `${name}.demo.svc.cluster.local`,
    vips: [vip],
    ports: [{ servicePort: 80, targetPort: 8080, name: 'http', appProtocol: 'http' }],
    endpoints: endpoints.map((w) => ({ workloadUid: w.uid, ports: { '80': 8080 } as never, address: '' })),
    waypoint: null,
    labels: {},
    ...extra,
  };
}

const client = workload('client-1', 'node1', '198.18.1.10');
const local = workload('server-1', 'node1', '198.18.1.11');
const remote = workload('server-2', 'node2', '198.18.2.10');
const unready = workload('server-3', 'node2', '198.18.2.11', { ready: false });
const plain = workload('legacy-1', 'node2', '198.18.2.20', { protocol: 'TCP' });
const waypoint = workload('waypoint-1', 'node2', '198.18.2.30', { isWaypoint: true });
const wpService = service('waypoint', '198.19.0.30', [waypoint], { ports: [{ servicePort: 15008, targetPort: 15008, name: 'mesh', appProtocol: '' }] });
const binding = { name: 'waypoint', namespace: 'demo', addresses: ['198.19.0.30'], hostname: 'waypoint.demo.svc.cluster.local', hbonePort: 15008 };

function ctx(resources: Resource__Output[], localUids = [client.uid, local.uid]): PlanContext {
  const view = new MeshView('1', resources);
  return { view, node: 'node1', balancer: new RoundRobin(), isLocal: (w) => localUids.includes(w.uid) };
}

const asResources = (ws: Workload[], ss: Service[]): Resource__Output[] => [
  ...ws.map((w) => ({ key: null, workload: w, kind: 'workload' as const })),
  ...ss.map((s) => ({ key: null, service: s, kind: 'service' as const })),
];

describe('outbound plan', () => {
  const svc = service('echo', '198.19.0.10', [local, remote, unready, plain]);
  const c = ctx(asResources([client, local, remote, unready, plain, waypoint], [svc, wpService]));

  it('spreads a VIP over ready endpoints in round-robin order, the rest as fail-over', () => {
    const first = planOutbound(c, client, '198.19.0.10', 80);
    const second = planOutbound(c, client, '198.19.0.10', 80);
    expect(first.hops.map((h) => h.workload?.name)).toEqual(['server-1', 'server-2', 'legacy-1']);
    expect(second.hops.map((h) => h.workload?.name)).toEqual(['server-2', 'legacy-1', 'server-1']);
    expect(first.service?.name).toBe('echo');
  });

  it('maps the service port to the target port and picks the transport per endpoint', () => {
    const plan = planOutbound(ctx(asResources([client, local, remote, plain], [svc])), client, '198.19.0.10', 80);
    expect(plan.hops[0]).toMatchObject({ kind: 'local', address: '198.18.1.11', port: 8080 });
    expect(plan.hops[1]).toMatchObject({ kind: 'hbone', address: '198.18.2.10', hbonePort: 15008, authority: '198.18.2.10:8080', waypoint: false });
    expect(plan.hops[2]).toMatchObject({ kind: 'passthrough', address: '198.18.2.20', port: 8080 });
  });

  it('refuses a VIP with no ready endpoint (UH) and an unknown service port (NR)', () => {
    const empty = service('empty', '198.19.0.11', [unready]);
    const c2 = ctx(asResources([client, unready], [empty]));
    expect(planOutbound(c2, client, '198.19.0.11', 80)).toMatchObject({ hops: [], failure: { flags: 'UH' } });
    expect(planOutbound(c2, client, '198.19.0.11', 81)).toMatchObject({ hops: [], failure: { flags: 'NR' } });
  });

  it('sends a mesh workload on another node over HBONE and one on this node to the local inbound path', () => {
    expect(planOutbound(c, client, '198.18.2.10', 8080).hops).toEqual([
      expect.objectContaining({ kind: 'hbone', address: '198.18.2.10', authority: '198.18.2.10:8080' }),
    ]);
    expect(planOutbound(c, client, '198.18.1.11', 8080).hops).toEqual([expect.objectContaining({ kind: 'local', port: 8080 })]);
  });

  it('passes through destinations outside the mesh and workloads not in it', () => {
    expect(planOutbound(c, client, '192.0.2.1', 443).hops).toEqual([{ kind: 'passthrough', address: '192.0.2.1', port: 443, workload: undefined }]);
    expect(planOutbound(c, client, '198.18.2.20', 8080).hops[0]).toMatchObject({ kind: 'passthrough' });
  });

  it('dials an address endpoint (an EndpointSlice address outside the mesh) as plaintext passthrough, in the VIP\'s family', () => {
    // Issue 7: a Service without a selector whose slices list a pod of the mesh and an external database.
    const external = service('db', '198.19.0.13', [remote], {
      endpoints: [
        { workloadUid: remote.uid, ports: { '80': 8080 } as never, address: '' },
        { workloadUid: '', ports: { '80': 5432 } as never, address: '192.0.2.10' },
        { workloadUid: '', ports: { '80': 5432 } as never, address: '2001:db8::10' },
      ],
    });
    const c5 = ctx(asResources([client, remote], [external]));
    const hops = [planOutbound(c5, client, '198.19.0.13', 80).hops, planOutbound(c5, client, '198.19.0.13', 80).hops];
    expect(hops[0]).toEqual([
      expect.objectContaining({ kind: 'hbone', address: '198.18.2.10', authority: '198.18.2.10:8080' }),
      { kind: 'passthrough', address: '192.0.2.10', port: 5432 },
    ]);
    // Round-robin over both; the IPv6 address is not tried for an IPv4 VIP.
    expect(hops[1]).toEqual([{ kind: 'passthrough', address: '192.0.2.10', port: 5432 }, expect.objectContaining({ kind: 'hbone' })]);
  });

  it('sends a waypoint-bound service to its waypoint with the VIP as authority, but not the waypoint itself', () => {
    const bound = service('reviews', '198.19.0.12', [remote], { waypoint: binding });
    const c3 = ctx(asResources([client, remote, waypoint], [bound, wpService]));
    expect(planOutbound(c3, client, '198.19.0.12', 80).hops).toEqual([
      expect.objectContaining({ kind: 'hbone', address: '198.18.2.30', authority: '198.19.0.12:80', waypoint: true }),
    ]);
    // The waypoint forwarding to the service's endpoints is not sent back to itself.
    expect(planOutbound(c3, waypoint, '198.19.0.12', 80).hops[0]).toMatchObject({ kind: 'hbone', address: '198.18.2.10' });
  });

  it('refuses waypoint-bound traffic while the waypoint has no ready instance', () => {
    const bound = service('reviews', '198.19.0.12', [remote], { waypoint: { ...binding, addresses: [] } });
    expect(planOutbound(ctx(asResources([client, remote], [bound])), client, '198.19.0.12', 80)).toMatchObject({ hops: [], failure: { flags: 'UH' } });
  });

  it('sends a pod bound to a waypoint through it, addressed to the pod', () => {
    const boundPod = workload('server-4', 'node2', '198.18.2.40', { waypoint: binding });
    const c4 = ctx(asResources([client, boundPod, waypoint], [wpService]));
    expect(planOutbound(c4, client, '198.18.2.40', 8080).hops[0]).toMatchObject({ kind: 'hbone', address: '198.18.2.30', authority: '198.18.2.40:8080' });
  });
});

describe('mesh view', () => {
  it('indexes workloads by IP, preferring the ready one, and finds the service of an endpoint', () => {
    const old = workload('old', 'node1', '198.18.1.50', { ready: false });
    const fresh = workload('fresh', 'node1', '198.18.1.50');
    const svc = service('echo', '198.19.0.10', [fresh]);
    const view = new MeshView('1', asResources([old, fresh], [svc]));
    expect(view.workloadAt('198.18.1.50')?.name).toBe('fresh');
    expect(view.serviceFor(fresh, 8080)?.name).toBe('echo');
    expect(view.serviceNamed('echo.demo.svc.cluster.local')?.vips).toEqual(['198.19.0.10']);
  });

  it('applies mesh-wide, namespace and selected policies to a workload', () => {
    const pol = (name: string, namespace: string, scope: 'GLOBAL' | 'NAMESPACE' | 'WORKLOAD_SELECTOR') =>
      ({ key: null, kind: 'authorization' as const, authorization: { name, namespace, scope } as never }) as Resource__Output;
    const w = workload('server-1', 'node1', '198.18.1.11', { authorizationPolicies: ['demo/selected'] });
    const view = new MeshView('1', [
      pol('mesh', 'istio-system', 'GLOBAL'),
      pol('ns', 'demo', 'NAMESPACE'),
      pol('elsewhere', 'other', 'NAMESPACE'),
      pol('selected', 'demo', 'WORKLOAD_SELECTOR'),
      pol('unselected', 'demo', 'WORKLOAD_SELECTOR'),
    ]);
    expect(view.authorizationsFor(w).map((p) => p.name).sort()).toEqual(['mesh', 'ns', 'selected']);
  });
});
