// The client's workload from the source agent's W3C baggage, for the waypoint's metric labels.
import { fromBaggage } from '../../waypoint/pipeline/source-workload';
import { requestLabels } from '../../waypoint/telemetry/request-labels';

const BAGGAGE = 'k8s.cluster.name=Kubernetes,k8s.namespace.name=shop,k8s.pod.name=client-7d9,service.name=client,service.version=v2,k8s.deployment.name=client';

it('reads ztunnel-style baggage into the source labels', () => {
  const w = fromBaggage(BAGGAGE, 'shop')!;
  expect(w).toMatchObject({ name: 'client-7d9', namespace: 'shop', workloadName: 'client', canonicalName: 'client', canonicalRevision: 'v2' });
  const labels = requestLabels({ source: w, grpc: false, responseCode: 200, responseFlags: '-', mtls: true });
  expect(labels).toMatchObject({ source_workload: 'client', source_workload_namespace: 'shop', source_canonical_service: 'client', source_canonical_revision: 'v2', source_app: 'client', source_version: 'v2' });
});

it('believes baggage only for the namespace the client proved with its certificate', () => {
  expect(fromBaggage(BAGGAGE, 'other')).toBeUndefined();
});

it('ignores malformed or incomplete baggage', () => {
  expect(fromBaggage('garbage', 'shop')).toBeUndefined();
  expect(fromBaggage('k8s.namespace.name=shop', 'shop')).toBeUndefined();
  expect(fromBaggage('k8s.namespace.name=shop,k8s.pod.name=a%ZZ', 'shop')).toMatchObject({ name: 'a%ZZ' });
});
