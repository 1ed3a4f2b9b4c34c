// Istio's request metric labels as the waypoint reports them: reporter "waypoint", SPIFFE
// principals, "unknown" for missing peers, grpc_response_status rules, and the same peer labels
// the agent's TCP metrics use (one shared implementation in common/telemetry).
import { connectionLabels } from '../../agent/telemetry/connection-labels';
import type { Service__Output } from '../../common/proto/generated/ambit/v1/Service';
import type { Workload__Output } from '../../common/proto/generated/ambit/v1/Workload';
import { principalLabel } from '../../common/telemetry/workload-labels';
import { REQUEST_LABEL_NAMES, grpcStatusForHttp, requestLabels } from '../../waypoint/telemetry/request-labels';

const workload = (over: Partial<Workload__Output>): Workload__Output => ({
  uid: 'Kubernetes//Pod/bookinfo/x',
  name: 'x',
  namespace: 'bookinfo',
  serviceAccount: 'default',
  node: 'node-1',
  addresses: ['10.0.0.1'],
  labels: {},
  protocol: 'HBONE',
  waypoint: null,
  ready: true,
  trustDomain: 'cluster.local',
  canonicalName: '',
  canonicalRevision: '',
  workloadName: '',
  authorizationPolicies: [],
  isWaypoint: false,
  ...over,
});

const productpage = workload({
  uid: 'Kubernetes//Pod/bookinfo/productpage-v1-abc',
  name: 'productpage-v1-abc',
  serviceAccount: 'bookinfo-productpage',
  labels: { app: 'productpage', version: 'v1' },
  canonicalName: 'productpage',
  canonicalRevision: 'v1',
  workloadName: 'productpage-v1',
});
const reviews = workload({
  uid: 'Kubernetes//Pod/bookinfo/reviews-v2-xyz',
  name: 'reviews-v2-xyz',
  serviceAccount: 'bookinfo-reviews',
  labels: { app: 'reviews', version: 'v2' },
  canonicalName: 'reviews',
  canonicalRevision: 'v2',
  workloadName: 'reviews-v2',
});
const reviewsSvc: Service__Output = {
  name: 'reviews',
  namespace: 'bookinfo',
  hostname: 'reviews.bookinfo.svc.cluster.local',
  vips: ['10.96.0.10'],
  ports: [],
  endpoints: [],
  waypoint: null,
  labels: {},
};

describe('requestLabels', () => {
  it('fills every Istio standard label for a known request', () => {
    const labels = requestLabels({
      source: productpage,
      sourcePrincipal: 'cluster.local/ns/bookinfo/sa/bookinfo-productpage',
      destination: reviews,
      destinationService: reviewsSvc,
      grpc: false,
      responseCode: 200,
      responseFlags: '-',
      mtls: true,
    });
    expect(Object.keys(labels)).toEqual([...REQUEST_LABEL_NAMES]);
    expect(labels).toEqual({
      reporter: 'waypoint',
      source_workload: 'productpage-v1',
      source_workload_namespace: 'bookinfo',
      source_principal: 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage',
      source_app: 'productpage',
      source_version: 'v1',
      source_cluster: 'Kubernetes',
      source_canonical_service: 'productpage',
      source_canonical_revision: 'v1',
      destination_workload: 'reviews-v2',
      destination_workload_namespace: 'bookinfo',
      destination_principal: 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews',
      destination_app: 'reviews',
      destination_version: 'v2',
      destination_service: 'reviews.bookinfo.svc.cluster.local',
      destination_service_name: 'reviews',
      destination_service_namespace: 'bookinfo',
      destination_canonical_service: 'reviews',
      destination_canonical_revision: 'v2',
      destination_cluster: 'Kubernetes',
      request_protocol: 'http',
      response_code: '200',
      grpc_response_status: '',
      response_flags: '-',
      connection_security_policy: 'mutual_tls',
    });
    expect(Object.isFrozen(labels)).toBe(true);
  });

  it('reports "unknown" for every missing peer field and "none" without mTLS', () => {
    const labels = requestLabels({ grpc: false, responseCode: 503, responseFlags: 'UH', mtls: false });
    for (const name of REQUEST_LABEL_NAMES) {
      if (name.startsWith('source_') || name.startsWith('destination_')) expect([name, labels[name]]).toEqual([name, 'unknown']);
    }
    expect(labels.response_code).toBe('503');
    expect(labels.response_flags).toBe('UH');
    expect(labels.connection_security_policy).toBe('none');
  });

  it('reports an empty response flag as "-" and a missing response as code "0"', () => {
    const labels = requestLabels({ grpc: false, responseCode: 0, responseFlags: '', mtls: true });
    expect([labels.response_code, labels.response_flags]).toEqual(['0', '-']);
  });

  it('formats principals as SPIFFE URIs, whichever form it is given', () => {
    expect(principalLabel('spiffe://td/ns/a/sa/b')).toBe('spiffe://td/ns/a/sa/b');
    expect(principalLabel('td/ns/a/sa/b')).toBe('spiffe://td/ns/a/sa/b');
    expect(principalLabel('')).toBe('unknown');
    expect(principalLabel(undefined)).toBe('unknown');
    const explicit = requestLabels({
      destination: reviews,
      destinationPrincipal: 'spiffe://other.td/ns/bookinfo/sa/reviews',
      grpc: false,
      responseCode: 200,
      responseFlags: '-',
      mtls: true,
    });
    expect(explicit.destination_principal).toBe('spiffe://other.td/ns/bookinfo/sa/reviews');
  });

  it('takes the cluster from the waypoint when the workload names none', () => {
    const bare = workload({ uid: '', name: 'bare' });
    const labels = requestLabels({
      source: bare,
      grpc: false,
      responseCode: 200,
      responseFlags: '-',
      mtls: true,
      clusterName: 'east',
    });
    expect([labels.source_cluster, labels.source_workload, labels.source_canonical_revision]).toEqual([
      'east',
      'bare',
      'latest',
    ]);
    expect(labels.destination_cluster).toBe('unknown');
  });

  it('reports gRPC status as sent, or derived from the HTTP status like Envoy', () => {
    const base = { grpc: true, responseFlags: '-', mtls: true } as const;
    expect(requestLabels({ ...base, responseCode: 200, grpcStatus: 0 })).toMatchObject({
      request_protocol: 'grpc',
      grpc_response_status: '0',
    });
    expect(requestLabels({ ...base, responseCode: 200, grpcStatus: 5 }).grpc_response_status).toBe('5');
    expect(requestLabels({ ...base, responseCode: 503 }).grpc_response_status).toBe('14');
    expect(requestLabels({ ...base, responseCode: 200 }).grpc_response_status).toBe('2');
    expect([401, 403, 404, 429, 400, 418].map(grpcStatusForHttp)).toEqual([16, 7, 12, 14, 13, 2]);
  });

  it('describes a peer exactly as the agent does (shared implementation)', () => {
    const req = requestLabels({ source: productpage, destination: reviews, grpc: false, responseCode: 200, responseFlags: '-', mtls: true });
    const tcp = connectionLabels({ reporter: 'source', source: productpage, destination: reviews });
    for (const name of REQUEST_LABEL_NAMES) {
      if (name in tcp && (name.startsWith('source_') || name.startsWith('destination_')) && name !== 'source_principal') {
        expect([name, req[name]]).toEqual([name, (tcp as Record<string, string>)[name]]);
      }
    }
  });
});
