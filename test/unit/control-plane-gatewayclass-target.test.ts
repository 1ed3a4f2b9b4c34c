// Istio policies targeting a GatewayClass: honoured from the root namespace only, and expanded to
// the waypoint Gateways of that class so a waypoint can tell the policy is its own.
import { MeshModel } from '../../control-plane/model/mesh-model';
import { authorizationPolicy, waypointGateway } from '../support/kube-fixtures';

const classRef = { group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' };

it('expands in the root namespace, follows new Gateways, and only warns elsewhere', () => {
  const model = new MeshModel();
  const sink = model.sinkFor('test');
  sink.apply({ upsert: [waypointGateway('wp', 'shop'), authorizationPolicy('all-waypoints', 'istio-system', { targetRefs: [classRef] }), authorizationPolicy('local', 'shop', { targetRefs: [classRef] })], remove: [] });
  sink.synced();
  const refs = (key: string) => model.resources.get(`AUTHORIZATION:${key}`)?.resource.authorization?.targetRefs;
  expect(refs('istio-system/all-waypoints')).toEqual([{ ...classRef, namespace: 'istio-system' }, { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'wp', namespace: 'shop' }]);
  expect(refs('shop/local')).toEqual([{ ...classRef, namespace: 'shop' }]);
  expect(model.problems()).toEqual([expect.objectContaining({ name: 'local', field: '/spec/targetRefs/0', message: expect.stringContaining('only applies from the root namespace istio-system') })]);

  sink.apply({ upsert: [waypointGateway('wp2', 'billing')], remove: [] });
  expect(refs('istio-system/all-waypoints')?.map((r) => `${r.kind}/${r.namespace}/${r.name}`)).toEqual(['GatewayClass/istio-system/istio-waypoint', 'Gateway/billing/wp2', 'Gateway/shop/wp']);
});
