// Issue 7: Services without a selector take their endpoints from EndpointSlices (addresses written
// by hand or by another controller); Services with a selector keep their pod-based endpoints.
import type { EndpointSlice, KubeObject } from '../../control-plane/kube/objects';
import type { MeshModel } from '../../control-plane/model/mesh-model';
import { convertObject } from '../../control-plane/sources/kube/object-conversion';
import { resourceOfKind } from '../../control-plane/sources/kube/watched-resources';
import { validateObject } from '../../control-plane/validation/validate-object';
import { namespace, pod, service } from '../support/kube-fixtures';
import { modelWith } from '../support/model-setup';

const setup = modelWith;

interface SliceEndpoint {
  ip: string;
  ready?: boolean;
  pod?: string;
}

function slice(name: string, svcName: string, endpoints: SliceEndpoint[], ports: EndpointSlice['ports'] = [{ name: 'tcp-db', port: 5432 }], o: { namespace?: string; addressType?: EndpointSlice['addressType'] } = {}): EndpointSlice {
  const s: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: o.namespace ?? 'default', labels: { 'kubernetes.io/service-name': svcName } },
    addressType: o.addressType ?? 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }),
      ...(e.pod === undefined ? {} : { targetRef: { kind: 'Pod', namespace: o.namespace ?? 'default', name: e.pod } }),
    })),
    ports,
  };
  // The fixtures are what a source would deliver: valid against the schema.
  expect(validateObject(s)).toEqual([]);
  return s;
}

/** A Service without a selector. */
const external = (name: string, ports = [{ name: 'tcp-db', port: 5432, targetPort: 5432 }]): KubeObject => {
  const s = service(name, { clusterIP: '10.96.0.50', ports });
  delete s.spec!.selector;
  return s;
};

const svc = (m: MeshModel, ns: string, name: string) => m.resources.get(`SERVICE:${ns}/${name}`)?.resource.service;

describe('EndpointSlices of a Service without a selector', () => {
  it('become its endpoints: plain addresses outside the mesh, ready ones only (ready absent = ready)', () => {
    const { model } = setup([
      external('db'),
      slice('db-1', 'db', [{ ip: '192.0.2.10' }, { ip: '192.0.2.11', ready: true }, { ip: '192.0.2.12', ready: false }]),
    ]);
    expect(svc(model, 'default', 'db')?.endpoints).toEqual([
      { address: '192.0.2.10', ports: { 5432: 5432 } },
      { address: '192.0.2.11', ports: { 5432: 5432 } },
    ]);
  });

  it('maps an address that is a known pod\'s IP to that pod\'s workload, so mesh pods get HBONE', () => {
    const { model } = setup([
      namespace('default', { 'istio.io/dataplane-mode': 'ambient' }),
      pod('db-0', { ip: '10.0.0.7' }),
      external('db'),
      slice('db-1', 'db', [{ ip: '10.0.0.7', pod: 'db-0' }, { ip: '192.0.2.10' }]),
    ]);
    expect(svc(model, 'default', 'db')?.endpoints).toEqual([
      { workloadUid: 'Kubernetes//Pod/default/db-0', ports: { 5432: 5432 } },
      { address: '192.0.2.10', ports: { 5432: 5432 } },
    ]);
    expect(model.resources.get('WORKLOAD:Kubernetes//Pod/default/db-0')?.resource.workload?.protocol).toBe('HBONE');
  });

  it('matches slice ports to Service ports by name, unnamed to unnamed; a port the slice lacks is not served', () => {
    const { model } = setup([
      external('multi', [
        { name: 'http', port: 80, targetPort: 8080 },
        { name: 'metrics', port: 9090, targetPort: 9090 },
        { name: 'grpc', port: 81, targetPort: 8081 },
      ]),
      slice('multi-1', 'multi', [{ ip: '192.0.2.20' }], [
        { name: 'http', port: 18080 },
        { name: 'grpc' }, // no port: the Service port's numeric targetPort
        { name: 'admin', port: 9901 }, // no such Service port
        { name: 'metrics', port: 9090, protocol: 'UDP' }, // not TCP
      ]),
      external('single', [{ port: 6379, targetPort: 6379 } as never]),
      slice('single-1', 'single', [{ ip: '192.0.2.30' }], [{ name: '', port: 16379 }]),
      slice('single-2', 'single', [{ ip: '192.0.2.31' }], [{ name: 'other', port: 1 }]),
    ]);
    expect(svc(model, 'default', 'multi')?.endpoints).toEqual([{ address: '192.0.2.20', ports: { 80: 18080, 81: 8081 } }]);
    // single-2 serves no port of the Service: its endpoint is left out.
    expect(svc(model, 'default', 'single')?.endpoints).toEqual([{ address: '192.0.2.30', ports: { 6379: 16379 } }]);
  });

  it('merges the slices of one Service: same address = one endpoint with the union of the ports', () => {
    const ports = [
      { name: 'http', port: 80, targetPort: 8080 },
      { name: 'tcp-db', port: 5432, targetPort: 5432 },
    ];
    const { model } = setup([
      external('db', ports),
      slice('db-a', 'db', [{ ip: '192.0.2.10' }, { ip: '192.0.2.11' }], [{ name: 'http', port: 8080 }]),
      slice('db-b', 'db', [{ ip: '192.0.2.10' }, { ip: '192.0.2.12' }], [{ name: 'tcp-db', port: 5432 }]),
      slice('other', 'not-db', [{ ip: '192.0.2.99' }]),
    ]);
    expect(svc(model, 'default', 'db')?.endpoints).toEqual([
      { address: '192.0.2.10', ports: { 80: 8080, 5432: 5432 } },
      { address: '192.0.2.11', ports: { 80: 8080 } },
      { address: '192.0.2.12', ports: { 5432: 5432 } },
    ]);
  });

  it('follows slice changes and removal, re-pushing only the Service they belong to', () => {
    const { model, sink, deltas } = setup([
      external('db'),
      external('cache'),
      slice('db-1', 'db', [{ ip: '192.0.2.10' }]),
      slice('cache-1', 'cache', [{ ip: '192.0.2.40' }]),
    ]);
    deltas.length = 0;
    sink.apply({ upsert: [slice('db-1', 'db', [{ ip: '192.0.2.10', ready: false }, { ip: '192.0.2.13' }])], remove: [] });
    expect(svc(model, 'default', 'db')?.endpoints).toEqual([{ address: '192.0.2.13', ports: { 5432: 5432 } }]);
    expect(deltas.flatMap((d) => [...d.upserted.map((r) => r.id), ...d.removed.map((r) => r.id)])).toEqual(['SERVICE:default/db']);

    // A relabelled slice moves its endpoints from one Service to the other.
    deltas.length = 0;
    sink.apply({ upsert: [slice('db-1', 'cache', [{ ip: '192.0.2.13' }])], remove: [] });
    expect(svc(model, 'default', 'db')?.endpoints).toEqual([]);
    expect(svc(model, 'default', 'cache')?.endpoints?.map((e) => e.address)).toEqual(['192.0.2.13', '192.0.2.40']);
    expect(deltas[0].upserted.map((r) => r.id).sort()).toEqual(['SERVICE:default/cache', 'SERVICE:default/db']);

    deltas.length = 0;
    sink.apply({ upsert: [], remove: ['EndpointSlice/default/db-1'] });
    expect(svc(model, 'default', 'cache')?.endpoints?.map((e) => e.address)).toEqual(['192.0.2.40']);
    expect(deltas.flatMap((d) => d.upserted.map((r) => r.id))).toEqual(['SERVICE:default/cache']);
  });

  it('re-translates the Service when a pod takes or leaves a slice\'s address', () => {
    const { model, sink } = setup([external('db'), slice('db-1', 'db', [{ ip: '10.0.0.7' }])]);
    expect(svc(model, 'default', 'db')?.endpoints).toEqual([{ address: '10.0.0.7', ports: { 5432: 5432 } }]);
    sink.apply({ upsert: [pod('db-0', { ip: '10.0.0.7' })], remove: [] });
    expect(svc(model, 'default', 'db')?.endpoints).toEqual([{ workloadUid: 'Kubernetes//Pod/default/db-0', ports: { 5432: 5432 } }]);
    sink.apply({ upsert: [], remove: ['Pod/default/db-0'] });
    expect(svc(model, 'default', 'db')?.endpoints).toEqual([{ address: '10.0.0.7', ports: { 5432: 5432 } }]);
  });

  it('is ignored for a Service with a selector (its pods are its endpoints), until the selector goes', () => {
    const withSelector = service('web', { clusterIP: '10.96.0.60', ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    const { model, sink } = setup([
      pod('web-1', { ip: '10.0.0.8', labels: { app: 'web' } }),
      withSelector,
      slice('web-x', 'web', [{ ip: '192.0.2.50' }], [{ name: 'http', port: 8080 }]),
    ]);
    expect(svc(model, 'default', 'web')?.endpoints).toEqual([{ workloadUid: 'Kubernetes//Pod/default/web-1', ports: { 80: 8080 } }]);
    const noSelector = structuredClone(withSelector);
    delete noSelector.spec!.selector;
    sink.apply({ upsert: [noSelector], remove: [] });
    expect(svc(model, 'default', 'web')?.endpoints).toEqual([{ address: '192.0.2.50', ports: { 80: 8080 } }]);
  });

  it('leaves FQDN slices out and says so on the Service', () => {
    const fqdn = slice('db-dns', 'db', [], [{ name: 'tcp-db', port: 5432 }], { addressType: 'FQDN' });
    fqdn.endpoints = [{ addresses: ['db.example.com'] }];
    const { model } = setup([external('db'), fqdn, slice('db-1', 'db', [{ ip: '192.0.2.10' }])]);
    expect(svc(model, 'default', 'db')?.endpoints).toEqual([{ address: '192.0.2.10', ports: { 5432: 5432 } }]);
    expect(model.problems()).toEqual([
      expect.objectContaining({ severity: 'warning', kind: 'Service', name: 'db', message: expect.stringMatching(/EndpointSlice db-dns has addressType FQDN/) }),
    ]);
  });
});

describe('EndpointSlices from the Kubernetes API', () => {
  it('are watched as a built-in kind: a field newer than Ambit\'s schema is dropped, not a reason to refuse the slice', () => {
    const resource = resourceOfKind('EndpointSlice');
    expect(resource).toMatchObject({ apiVersion: 'discovery.k8s.io/v1', path: '/apis/discovery.k8s.io/v1/endpointslices', optional: false, builtin: true });
    const raw = { ...slice('db-1', 'db', [{ ip: '192.0.2.10' }]), trafficDistributionHint: 'x' } as never;
    const converted = convertObject('kube:test', resource, raw);
    expect(converted).toMatchObject({ key: 'EndpointSlice/default/db-1', problems: [], dropped: ['/trafficDistributionHint'] });
    expect(converted.object).not.toHaveProperty('trafficDistributionHint');
  });
});
