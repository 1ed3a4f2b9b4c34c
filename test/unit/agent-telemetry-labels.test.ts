// Istio's TCP metric labels as the agent derives them: canonical service / app / version fallbacks,
// principals, cluster, and "unknown" for whatever is missing (istio/ztunnel CommonTrafficLabels).
import {
  CONNECTION_LABEL_NAMES,
  ResponseFlags,
  UNKNOWN,
  appOf,
  canonicalServiceOf,
  clusterOf,
  connectionLabels,
  versionOf,
  withResponseFlags,
  type WorkloadLike,
} from '../../agent/telemetry/connection-labels';
import type { Workload__Output } from '../../common/proto/generated/ambit/v1/Workload';

// A workload exactly as the control plane sends it (translate/workload.ts fills the canonical fields).
const reviews: Workload__Output = {
  uid: 'Kubernetes//Pod/bookinfo/reviews-v2-5b667bcbf8-x2xqk',
  name: 'reviews-v2-5b667bcbf8-x2xqk',
  namespace: 'bookinfo',
  serviceAccount: 'bookinfo-reviews',
  node: 'node-1',
  addresses: ['10.0.1.7'],
  labels: { app: 'reviews', version: 'v2', 'pod-template-hash': '5b667bcbf8' },
  protocol: 'HBONE',
  waypoint: null,
  ready: true,
  trustDomain: 'cluster.local',
  canonicalName: 'reviews',
  canonicalRevision: 'v2',
  workloadName: 'reviews-v2',
  authorizationPolicies: [],
  isWaypoint: false,
};

describe('canonical service, app and version', () => {
  it('takes the control plane canonical fields when present', () => {
    expect(canonicalServiceOf(reviews)).toEqual({ name: 'reviews', revision: 'v2' });
  });

  it('falls back like Istio: canonical-name, app.kubernetes.io/name, app, then the workload name', () => {
    const base: WorkloadLike = { name: 'pod-1', namespace: 'ns', workloadName: 'deploy' };
    expect(canonicalServiceOf(base)).toEqual({ name: 'deploy', revision: 'latest' });
    expect(canonicalServiceOf({ ...base, labels: { app: 'a' } }).name).toBe('a');
    expect(canonicalServiceOf({ ...base, labels: { app: 'a', 'app.kubernetes.io/name': 'k' } }).name).toBe('k');
    expect(
      canonicalServiceOf({
        ...base,
        labels: { app: 'a', 'app.kubernetes.io/name': 'k', 'service.istio.io/canonical-name': 'c' },
      }).name,
    ).toBe('c');
    expect(canonicalServiceOf({ ...base, labels: { version: 'v1' } }).revision).toBe('v1');
    expect(canonicalServiceOf({ ...base, labels: { version: 'v1', 'app.kubernetes.io/version': '1.2' } }).revision).toBe(
      '1.2',
    );
    expect(
      canonicalServiceOf({ ...base, labels: { 'service.istio.io/canonical-revision': 'r9', version: 'v1' } }).revision,
    ).toBe('r9');
  });

  it('uses a bare pod name as its workload name when it has no owner', () => {
    expect(canonicalServiceOf({ name: 'lonely', namespace: 'ns' }).name).toBe('lonely');
  });

  it('reads app/version from the app and version labels first, then app.kubernetes.io/*, then canonical', () => {
    const w: WorkloadLike = { name: 'p', namespace: 'ns', canonicalName: 'canon', canonicalRevision: 'rev' };
    expect([appOf(w), versionOf(w)]).toEqual(['canon', 'rev']);
    const k8s = { ...w, labels: { 'app.kubernetes.io/name': 'kname', 'app.kubernetes.io/version': '2.0' } };
    expect([appOf(k8s), versionOf(k8s)]).toEqual(['kname', '2.0']);
    const both = { ...w, labels: { ...k8s.labels, app: 'plain', version: 'v3' } };
    expect([appOf(both), versionOf(both)]).toEqual(['plain', 'v3']);
  });

  it('ignores empty label values', () => {
    const w: WorkloadLike = { name: 'p', namespace: 'ns', labels: { app: '', 'app.kubernetes.io/name': 'k' } };
    expect(appOf(w)).toBe('k');
  });

  it('takes the cluster from the uid, or an explicit cluster id', () => {
    expect(clusterOf(reviews)).toBe('Kubernetes');
    expect(clusterOf({ ...reviews, clusterId: 'east' })).toBe('east');
    expect(clusterOf({ name: 'p', namespace: 'ns' })).toBeUndefined();
  });
});

describe('connectionLabels', () => {
  it('fills every Istio label for an outbound mTLS connection to a service', () => {
    const productpage: WorkloadLike = {
      uid: 'Kubernetes//Pod/bookinfo/productpage-v1-abc',
      name: 'productpage-v1-abc',
      namespace: 'bookinfo',
      serviceAccount: 'bookinfo-productpage',
      labels: { app: 'productpage', version: 'v1' },
      workloadName: 'productpage-v1',
    };
    const labels = connectionLabels({
      reporter: 'source',
      source: productpage,
      destination: reviews,
      sourcePrincipal: 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage',
      destinationService: { hostname: 'reviews.bookinfo.svc.cluster.local', name: 'reviews', namespace: 'bookinfo' },
      security: 'mutual_tls',
    });
    expect(labels).toEqual({
      reporter: 'source',
      source_workload: 'productpage-v1',
      source_workload_namespace: 'bookinfo',
      source_principal: 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage',
      source_app: 'productpage',
      source_version: 'v1',
      source_canonical_service: 'productpage',
      source_canonical_revision: 'v1',
      source_cluster: 'Kubernetes',
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
      request_protocol: 'tcp',
      response_flags: '-',
      connection_security_policy: 'mutual_tls',
    });
    expect(Object.keys(labels)).toEqual([...CONNECTION_LABEL_NAMES]);
    expect(Object.isFrozen(labels)).toBe(true);
  });

  it('reports "unknown" for everything it does not know', () => {
    const labels = connectionLabels({ reporter: 'destination' });
    for (const name of CONNECTION_LABEL_NAMES) {
      if (name === 'reporter' || name === 'request_protocol' || name === 'response_flags') continue;
      expect([name, labels[name]]).toEqual([name, UNKNOWN]);
    }
    expect(labels.response_flags).toBe('-');
  });

  it('never derives source_principal from the workload record, only from what was on the wire', () => {
    const labels = connectionLabels({ reporter: 'destination', source: reviews, destination: reviews });
    expect(labels.source_principal).toBe(UNKNOWN);
    expect(labels.destination_principal).toBe('spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews');
  });

  it('prefers the principal the destination presented over its workload identity', () => {
    const labels = connectionLabels({
      reporter: 'source',
      destination: reviews,
      destinationPrincipal: 'spiffe://other.td/ns/bookinfo/sa/x',
    });
    expect(labels.destination_principal).toBe('spiffe://other.td/ns/bookinfo/sa/x');
  });

  it('treats empty strings as unknown', () => {
    const labels = connectionLabels({
      reporter: 'source',
      source: { name: 'p', namespace: '' },
      sourcePrincipal: '',
      destinationService: { hostname: '', name: 'svc', namespace: 'ns' },
    });
    expect(labels.source_workload_namespace).toBe(UNKNOWN);
    expect(labels.source_principal).toBe(UNKNOWN);
    expect(labels.destination_service).toBe(UNKNOWN);
    expect(labels.destination_service_name).toBe('svc');
  });

  it('withResponseFlags copies only when the flags change', () => {
    const labels = connectionLabels({ reporter: 'source' });
    expect(withResponseFlags(labels, ResponseFlags.NONE)).toBe(labels);
    const denied = withResponseFlags(labels, ResponseFlags.DENY);
    expect(denied.response_flags).toBe('DENY');
    expect(labels.response_flags).toBe('-');
  });
});
