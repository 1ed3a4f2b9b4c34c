/**
 * How a workload or service becomes Istio's source_* / destination_* metric labels, shared by the
 * agent (istio_tcp_*) and the waypoint (istio_requests_*), so both report one peer the same way and
 * Istio's dashboards and Kiali join their series. Derived as istio/ztunnel does
 * (src/proxy/metrics.rs, CommonTrafficLabels); every missing or empty value is the literal "unknown".
 *
 * - workload: the owning workload (Deployment, StatefulSet...), the pod name for a bare pod.
 * - canonical service / revision: labels service.istio.io/canonical-name, app.kubernetes.io/name,
 *   app, else the workload name; service.istio.io/canonical-revision, app.kubernetes.io/version,
 *   version, else "latest" (istio/istio pkg/kube/labels). The control plane computes them; we
 *   recompute only when absent.
 * - app / version: the `app` / `version` labels Envoy's stats plugin reads, then their
 *   app.kubernetes.io/ forms, then the canonical service / revision as ztunnel reports them.
 * - cluster: the workload's cluster id, else the first segment of its uid ("Kubernetes//Pod/ns/n").
 */
import { DEFAULT_TRUST_DOMAIN } from '../identity/spiffe';
import type { Workload__Output } from '../proto/generated/ambit/v1/Workload';

export const UNKNOWN = 'unknown';

/** What telemetry needs of a workload; `Workload__Output` from the control plane satisfies it. */
export type WorkloadLike = Pick<Workload__Output, 'name' | 'namespace'> &
  Partial<
    Pick<
      Workload__Output,
      'uid' | 'serviceAccount' | 'labels' | 'canonicalName' | 'canonicalRevision' | 'workloadName' | 'trustDomain'
    >
  > & {
    /** Multi-cluster id; otherwise taken from the uid. */
    clusterId?: string;
  };

/** What telemetry needs of a service; `Service__Output` satisfies it. */
export interface ServiceLike {
  /** e.g. reviews.bookinfo.svc.cluster.local */
  hostname: string;
  name: string;
  namespace: string;
}

/** The value, or "unknown" when it is missing or empty. */
export const known = (v: string | undefined | null): string => (v === undefined || v === null || v === '' ? UNKNOWN : v);

function firstLabel(labels: Readonly<Record<string, string>> | undefined, keys: readonly string[]): string | undefined {
  if (labels === undefined) return undefined;
  for (const key of keys) {
    const v = labels[key];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** Owning workload name, the pod's own name when it has no owner. */
export function workloadNameOf(w: WorkloadLike): string {
  return w.workloadName || w.name;
}

/** Istio's canonical service name and revision (istio/istio pkg/kube/labels.CanonicalService). */
export function canonicalServiceOf(w: WorkloadLike): { name: string; revision: string } {
  return {
    name:
      w.canonicalName ||
      firstLabel(w.labels, ['service.istio.io/canonical-name', 'app.kubernetes.io/name', 'app']) ||
      workloadNameOf(w),
    revision:
      w.canonicalRevision ||
      firstLabel(w.labels, ['service.istio.io/canonical-revision', 'app.kubernetes.io/version', 'version']) ||
      'latest',
  };
}

export function appOf(w: WorkloadLike): string {
  return firstLabel(w.labels, ['app', 'app.kubernetes.io/name']) ?? canonicalServiceOf(w).name;
}

export function versionOf(w: WorkloadLike): string {
  return firstLabel(w.labels, ['version', 'app.kubernetes.io/version']) ?? canonicalServiceOf(w).revision;
}

export function clusterOf(w: WorkloadLike): string | undefined {
  if (w.clusterId) return w.clusterId;
  const slash = w.uid?.indexOf('/') ?? -1;
  return slash > 0 ? w.uid!.slice(0, slash) : undefined;
}

/** spiffe://<td>/ns/<ns>/sa/<sa>, or undefined without a service account. Never throws. */
export function identityOf(w: WorkloadLike): string | undefined {
  if (!w.serviceAccount || !w.namespace) return undefined;
  return `spiffe://${w.trustDomain || DEFAULT_TRUST_DOMAIN}/ns/${w.namespace}/sa/${w.serviceAccount}`;
}

/**
 * A principal as Istio's metrics print it: the full SPIFFE URI. Accepts Istio's policy form
 * ("cluster.local/ns/x/sa/y", RequestPeer.principal) too, so callers need not care which they hold.
 */
export function principalLabel(principal: string | undefined): string {
  if (principal === undefined || principal === '') return UNKNOWN;
  return principal.startsWith('spiffe://') ? principal : `spiffe://${principal}`;
}

/** One peer's part of the standard label set (prefix it with source_ or destination_). */
export interface PeerLabels {
  workload: string;
  namespace: string;
  app: string;
  version: string;
  canonicalService: string;
  canonicalRevision: string;
  cluster: string;
}

const UNKNOWN_PEER: Readonly<PeerLabels> = Object.freeze({
  workload: UNKNOWN,
  namespace: UNKNOWN,
  app: UNKNOWN,
  version: UNKNOWN,
  canonicalService: UNKNOWN,
  canonicalRevision: UNKNOWN,
  cluster: UNKNOWN,
});

/** The peer labels of a workload; all "unknown" without one. `cluster` fills in a missing cluster id. */
export function peerLabels(w: WorkloadLike | undefined, cluster?: string): Readonly<PeerLabels> {
  if (w === undefined) return UNKNOWN_PEER;
  const canonical = canonicalServiceOf(w);
  return {
    workload: known(workloadNameOf(w)),
    namespace: known(w.namespace),
    app: known(appOf(w)),
    version: known(versionOf(w)),
    canonicalService: known(canonical.name),
    canonicalRevision: known(canonical.revision),
    cluster: known(clusterOf(w) ?? cluster),
  };
}

/** destination_service, _name and _namespace of a service; "unknown" without one. */
export function serviceLabels(svc: ServiceLike | undefined): { service: string; name: string; namespace: string } {
  return { service: known(svc?.hostname), name: known(svc?.name), namespace: known(svc?.namespace) };
}
