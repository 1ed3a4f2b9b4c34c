// control-plane/push: which resources each Watch client gets, and how that changes with the store.
import type { Resource } from '../../common/proto/generated/ambit/v1/Resource';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../../control-plane/errors';
import { ResourceStore, ResourceTypeName, StoredResource } from '../../control-plane/model/resource-store';
import { ResourceTable, ResourceWrite } from '../../control-plane/model/resource-table';
import { ClientFilter, createClientFilter } from '../../control-plane/push/client-filter';
import { takeDelta } from '../../control-plane/push/client-delta';
import { KnownResources } from '../../control-plane/push/known-resources';
import { parseSubscribe } from '../../control-plane/push/subscription';
import { VersionClock } from '../../control-plane/push/versions';
import { thrown } from '../support/thrown';

const NS = 'shop';
const host = (svc: string): string => `${svc}.${NS}.svc.cluster.local`;
const wpBinding = (name: string) => ({ name, namespace: NS, hostname: host(name), hbonePort: 15008 });

function write(type: ResourceTypeName, name: string, resource: Resource | undefined): ResourceWrite {
  return { type, name, resource };
}

const workload = (name: string, extra: Partial<NonNullable<Resource['workload']>> = {}): ResourceWrite =>
  write('WORKLOAD', `uid/${name}`, { workload: { uid: `uid/${name}`, name, namespace: NS, node: 'node1', ...extra } });

const service = (name: string, endpoints: string[], waypoint?: string): ResourceWrite =>
  write('SERVICE', `${NS}/${name}`, {
    service: {
      name,
      namespace: NS,
      hostname: host(name),
      endpoints: endpoints.map((e) => ({ workloadUid: `uid/${e}` })),
      waypoint: waypoint === undefined ? null : wpBinding(waypoint),
    },
  });

const targetRef = (kind: 'Gateway' | 'Service', name: string) => ({
  group: kind === 'Gateway' ? 'gateway.networking.k8s.io' : '',
  kind,
  name,
});

/** A namespace with two waypoints, bound and unbound services, routes and every policy kind. */
function scene(): ResourceWrite[] {
  return [
    workload('wp-pod', { isWaypoint: true, labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } }),
    workload('other-wp-pod', { isWaypoint: true, labels: { 'gateway.networking.k8s.io/gateway-name': 'other' } }),
    workload('cart-0'),
    workload('cart-1'),
    workload('orders-0'),
    workload('pay-0'),
    workload('cart-v2-0'),
    workload('direct-0', { waypoint: wpBinding('waypoint') }),
    service('cart', ['cart-0', 'cart-1'], 'waypoint'),
    service('orders', ['orders-0']),
    service('payments', ['pay-0'], 'other'),
    service('cart-v2', ['cart-v2-0']),
    write('ROUTE', `${NS}/cart-route`, {
      route: {
        name: 'cart-route',
        namespace: NS,
        parents: [{ serviceName: 'cart' }],
        // cart-v2 is named by hostname only: the scope must resolve it.
        rules: [{ backendRefs: [{ serviceName: 'cart', serviceHostname: host('cart'), weight: 90 }, { serviceHostname: host('cart-v2'), weight: 10 }] }],
      },
    }),
    write('ROUTE', `${NS}/orders-route`, {
      route: { name: 'orders-route', namespace: NS, parents: [{ serviceHostname: host('orders') }] },
    }),
    write('AUTHORIZATION', `${NS}/allow-ns`, { authorization: { name: 'allow-ns', namespace: NS, scope: 'NAMESPACE' } }),
    write('AUTHORIZATION', `${NS}/wp-authz`, {
      authorization: { name: 'wp-authz', namespace: NS, scope: 'TARGET_REFS', targetRefs: [targetRef('Gateway', 'waypoint')] },
    }),
    // Scope as a number, as a translator may store it.
    write('AUTHORIZATION', `${NS}/cart-authz`, {
      authorization: { name: 'cart-authz', namespace: NS, scope: 3, targetRefs: [targetRef('Service', 'cart')] },
    }),
    write('AUTHORIZATION', `${NS}/pay-authz`, {
      authorization: { name: 'pay-authz', namespace: NS, scope: 'TARGET_REFS', targetRefs: [targetRef('Service', 'payments')] },
    }),
    write('REQUEST_AUTHENTICATION', `${NS}/jwt`, {
      requestAuthentication: { name: 'jwt', namespace: NS, scope: 'TARGET_REFS', targetRefs: [targetRef('Gateway', 'waypoint')] },
    }),
    write('PEER_AUTHENTICATION', `${NS}/strict`, { peerAuthentication: { name: 'strict', namespace: NS, mode: 'STRICT' } }),
    write('DESTINATION_POLICY', `${NS}/cart-dr`, { destinationPolicy: { name: 'cart-dr', namespace: NS, host: host('cart') } }),
    write('DESTINATION_POLICY', `${NS}/cart-v2-dr`, { destinationPolicy: { name: 'cart-v2-dr', namespace: NS, host: host('cart-v2') } }),
    write('DESTINATION_POLICY', `${NS}/orders-dr`, { destinationPolicy: { name: 'orders-dr', namespace: NS, host: host('orders') } }),
  ];
}

function visibleIds(filter: ClientFilter, store: ResourceStore): string[] {
  return [...store.all()].filter((r) => filter.visible(r)).map((r) => r.id).sort();
}

const agentSub = (types: string[] = []) =>
  parseSubscribe({ node: 'node1', client: 'node', types: types as never, clientId: '', lastAcceptedVersion: '' });
const waypointSub = (waypoint = `${NS}/waypoint`) =>
  parseSubscribe({ waypoint, client: 'waypoint', types: [], clientId: '', lastAcceptedVersion: '' });

const WAYPOINT_VIEW = [
  'AUTHORIZATION:shop/cart-authz',
  'AUTHORIZATION:shop/wp-authz',
  'DESTINATION_POLICY:shop/cart-dr',
  'DESTINATION_POLICY:shop/cart-v2-dr',
  'REQUEST_AUTHENTICATION:shop/jwt',
  'ROUTE:shop/cart-route',
  'SERVICE:shop/cart',
  'SERVICE:shop/cart-v2',
  'WORKLOAD:uid/cart-0',
  'WORKLOAD:uid/cart-1',
  'WORKLOAD:uid/cart-v2-0',
  'WORKLOAD:uid/direct-0',
  'WORKLOAD:uid/wp-pod',
];

describe('agent filter', () => {
  let store: ResourceTable;
  beforeEach(() => {
    store = new ResourceTable();
    store.apply(scene());
  });

  it('sends every workload, service, peer authentication and non-targetRefs authorization', () => {
    const ids = visibleIds(createClientFilter(agentSub(), store), store);
    expect(ids.filter((id) => id.startsWith('WORKLOAD:'))).toHaveLength(8);
    expect(ids.filter((id) => id.startsWith('SERVICE:'))).toHaveLength(4);
    expect(ids.filter((id) => !id.startsWith('WORKLOAD:') && !id.startsWith('SERVICE:'))).toEqual([
      'AUTHORIZATION:shop/allow-ns',
      'PEER_AUTHENTICATION:shop/strict',
    ]);
  });

  it('narrows to the requested types and ignores types agents never use', () => {
    const sub = agentSub(['WORKLOAD', 'ROUTE']);
    expect([...sub.types]).toEqual(['WORKLOAD']);
    const ids = visibleIds(createClientFilter(sub, store), store);
    expect(ids.every((id) => id.startsWith('WORKLOAD:'))).toBe(true);
    expect(ids).toHaveLength(8);
  });

  it('filters per resource: a policy moving to targetRefs is removed from the agent', () => {
    const filter = createClientFilter(agentSub(), store);
    const known = new Map([...store.all()].filter((r) => filter.visible(r)).map((r) => [r.id, r.revision]));
    const delta = store.apply([
      write('AUTHORIZATION', `${NS}/allow-ns`, {
        authorization: { name: 'allow-ns', namespace: NS, scope: 'TARGET_REFS', targetRefs: [targetRef('Gateway', 'waypoint')] },
      }),
      workload('cart-0', { ready: true }),
    ])!;
    const changed = new Set(delta.upserted.map((r) => r.id));
    expect(filter.refresh(changed)).toBeNull();
    const d = takeDelta(changed, known, store, filter);
    expect(d.removed.map((r) => r.id)).toEqual(['AUTHORIZATION:shop/allow-ns']);
    expect(d.updated.map((r) => r.id)).toEqual(['WORKLOAD:uid/cart-0']);
    expect(d.added).toEqual([]);
    // Recorded: the same ids again produce nothing.
    expect(takeDelta(changed, known, store, filter)).toEqual({ added: [], updated: [], removed: [] });
  });
});

describe('waypoint filter', () => {
  let store: ResourceTable;
  beforeEach(() => {
    store = new ResourceTable();
    store.apply(scene());
  });

  it('sends its services, their endpoints, its pods, routes, targeted policies and destination policies', () => {
    expect(visibleIds(createClientFilter(waypointSub(), store), store)).toEqual(WAYPOINT_VIEW);
  });

  it('sends another waypoint nothing of this one', () => {
    const ids = visibleIds(createClientFilter(waypointSub(`${NS}/other`), store), store);
    expect(ids).toEqual(['AUTHORIZATION:shop/pay-authz', 'SERVICE:shop/payments', 'WORKLOAD:uid/other-wp-pod', 'WORKLOAD:uid/pay-0']);
  });

  it('does not recompute its scope for changes that are not services or routes', () => {
    const filter = createClientFilter(waypointSub(), store);
    const delta = store.apply([workload('cart-0', { ready: true })])!;
    expect(filter.refresh(new Set(delta.upserted.map((r) => r.id)))).toBeNull();
  });

  function knownOf(filter: ClientFilter): Map<string, number> {
    return new Map([...store.all()].filter((r) => filter.visible(r)).map((r: StoredResource) => [r.id, r.revision]));
  }

  function deltaAfter(filter: ClientFilter, known: Map<string, number>, writes: ResourceWrite[]) {
    const applied = store.apply(writes)!;
    const changed = new Set([...applied.upserted.map((r) => r.id), ...applied.removed.map((r) => r.id)]);
    const view = filter.refresh(changed);
    expect(view).not.toBeNull();
    const ids = new Set([...changed, ...known.keys(), ...view!.candidates]);
    const d = takeDelta(ids, known, store, filter);
    return {
      added: d.added.map((r) => r.id).sort(),
      updated: d.updated.map((r) => r.id).sort(),
      removed: d.removed.map((r) => r.id).sort(),
    };
  }

  it('adds a newly bound service with its endpoints, routes and destination policies', () => {
    const filter = createClientFilter(waypointSub(), store);
    const known = knownOf(filter);
    expect(deltaAfter(filter, known, [service('orders', ['orders-0'], 'waypoint')])).toEqual({
      added: ['DESTINATION_POLICY:shop/orders-dr', 'ROUTE:shop/orders-route', 'SERVICE:shop/orders', 'WORKLOAD:uid/orders-0'],
      updated: [],
      removed: [],
    });
  });

  it('removes an unbound service and everything that was visible only through it', () => {
    const filter = createClientFilter(waypointSub(), store);
    const known = knownOf(filter);
    expect(deltaAfter(filter, known, [service('cart', ['cart-0', 'cart-1'])])).toEqual({
      added: [],
      updated: [],
      removed: [
        'AUTHORIZATION:shop/cart-authz',
        'DESTINATION_POLICY:shop/cart-dr',
        'DESTINATION_POLICY:shop/cart-v2-dr',
        'ROUTE:shop/cart-route',
        'SERVICE:shop/cart',
        'SERVICE:shop/cart-v2',
        'WORKLOAD:uid/cart-0',
        'WORKLOAD:uid/cart-1',
        'WORKLOAD:uid/cart-v2-0',
      ],
    });
    // What remains is what does not depend on the binding.
    expect([...known.keys()].sort()).toEqual([
      'AUTHORIZATION:shop/wp-authz',
      'REQUEST_AUTHENTICATION:shop/jwt',
      'WORKLOAD:uid/direct-0',
      'WORKLOAD:uid/wp-pod',
    ]);
  });

  it('follows a route whose backends change', () => {
    const filter = createClientFilter(waypointSub(), store);
    const known = knownOf(filter);
    const route = write('ROUTE', `${NS}/cart-route`, {
      route: { name: 'cart-route', namespace: NS, parents: [{ serviceName: 'cart' }], rules: [{ backendRefs: [{ serviceName: 'orders', serviceHostname: host('orders') }] }] },
    });
    expect(deltaAfter(filter, known, [route])).toEqual({
      added: ['DESTINATION_POLICY:shop/orders-dr', 'SERVICE:shop/orders', 'WORKLOAD:uid/orders-0'],
      updated: ['ROUTE:shop/cart-route'],
      removed: ['DESTINATION_POLICY:shop/cart-v2-dr', 'SERVICE:shop/cart-v2', 'WORKLOAD:uid/cart-v2-0'],
    });
  });

  // A backend the translation refused (another namespace, no ReferenceGrant) has an empty hostname:
  // requests to it get 500, so the waypoint must not be handed that service and its endpoints.
  it('does not follow a refused backend (empty serviceHostname) into another service', () => {
    const filter = createClientFilter(waypointSub(), store);
    const known = knownOf(filter);
    const route = write('ROUTE', `${NS}/cart-route`, {
      route: { name: 'cart-route', namespace: NS, parents: [{ serviceName: 'cart' }], rules: [{ backendRefs: [{ serviceName: 'orders', serviceNamespace: NS, serviceHostname: '' }] }] },
    });
    expect(deltaAfter(filter, known, [route]).added).toEqual([]);
  });
});

describe('subscribe parsing', () => {
  const base = { types: [], clientId: '', lastAcceptedVersion: '' };

  it('refuses a subscribe that names no client, or a malformed waypoint', () => {
    for (const msg of [
      { ...base },
      { ...base, client: 'node' as const, node: '' },
      { ...base, client: 'waypoint' as const, waypoint: 'no-namespace' },
      { ...base, client: 'waypoint' as const, waypoint: 'a/b/c' },
    ]) {
      const err = thrown(() => parseSubscribe(msg));
      expect(err).toBeInstanceOf(ControlPlaneError);
      expect((err as ControlPlaneError).code).toBe(ControlPlaneErrorCodes.PROTOCOL);
    }
  });

  it('defaults the types by client kind', () => {
    expect([...waypointSub().types].sort()).toEqual(
      ['AUTHORIZATION', 'DESTINATION_POLICY', 'REQUEST_AUTHENTICATION', 'ROUTE', 'SERVICE', 'WORKLOAD'],
    );
    expect([...agentSub().types].sort()).toEqual(['AUTHORIZATION', 'PEER_AUTHENTICATION', 'SERVICE', 'WORKLOAD']);
  });
});

describe('versions', () => {
  it('names each store generation once, monotonically, and only recognises its own versions', () => {
    const clock = new VersionClock('abc');
    expect(clock.versionFor(0)).toBe('abc-1');
    expect(clock.versionFor(0)).toBe('abc-1');
    expect(clock.versionFor(3)).toBe('abc-2');
    expect(clock.current()).toBe('abc-2');
    expect(clock.counterOf('abc-2')).toBe(2);
    expect(clock.counterOf('abc-3')).toBeUndefined();
    expect(clock.counterOf('abd-1')).toBeUndefined();
    expect(clock.counterOf('abc-x')).toBeUndefined();
    expect(new VersionClock().instanceId).toMatch(/^[0-9a-f]{8}$/);
  });
});

describe('known resources (what a client has)', () => {
  it('reads through to the shared snapshot map and never writes to it', () => {
    const shared = new Map([
      ['WORKLOAD:a', 1],
      ['WORKLOAD:b', 2],
    ]);
    const known = new KnownResources();
    known.reset(shared);
    known.set('WORKLOAD:a', 5);
    known.delete('WORKLOAD:b');
    known.set('WORKLOAD:c', 6);
    known.delete('WORKLOAD:never-had');
    expect(known.get('WORKLOAD:a')).toBe(5);
    expect(known.get('WORKLOAD:b')).toBeUndefined();
    expect(known.get('WORKLOAD:c')).toBe(6);
    expect([...known.keys()].sort()).toEqual(['WORKLOAD:a', 'WORKLOAD:c']);
    expect([...shared]).toEqual([
      ['WORKLOAD:a', 1],
      ['WORKLOAD:b', 2],
    ]);
  });

  it('keeps the same content when it folds many own changes into a private map', () => {
    const shared = new Map(Array.from({ length: 3000 }, (_, i) => [`WORKLOAD:${i}`, 1] as const));
    const known = new KnownResources();
    known.reset(shared);
    for (let i = 0; i < 2000; i++) {
      if (i % 2 === 0) known.set(`WORKLOAD:${i}`, 2);
      else known.delete(`WORKLOAD:${i}`);
    }
    for (let i = 3000; i < 3100; i++) known.set(`WORKLOAD:${i}`, 3);
    const expected = new Map<string, number>();
    for (let i = 0; i < 3100; i++) {
      if (i < 2000 && i % 2 === 1) continue;
      expected.set(`WORKLOAD:${i}`, i < 2000 ? 2 : i < 3000 ? 1 : 3);
    }
    expect(new Map([...known.keys()].map((id) => [id, known.get(id)]))).toEqual(expected);
    expect(shared.size).toBe(3000);
    expect([...shared.values()].every((v) => v === 1)).toBe(true);
  });
});
