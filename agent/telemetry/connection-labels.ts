/**
 * The label set of Istio's standard TCP metrics, derived the way istio/ztunnel derives it
 * (src/proxy/metrics.rs, CommonTrafficLabels), so Istio's Grafana dashboards and Kiali read Ambit's
 * agent unchanged. Every missing or empty value is the literal "unknown", as Istio reports it.
 *
 * - *_workload: the owning workload (Deployment, StatefulSet...), the pod name for a bare pod.
 * - *_canonical_service / *_canonical_revision: Istio's canonical service (labels
 *   service.istio.io/canonical-name, app.kubernetes.io/name, app, else the workload name;
 *   service.istio.io/canonical-revision, app.kubernetes.io/version, version, else "latest"),
 *   istio/istio pkg/kube/labels. The control plane computes them; we recompute only when absent.
 * - *_app / *_version: the `app` / `version` labels Envoy's stats plugin reads, then their
 *   app.kubernetes.io/ forms, then the canonical service / revision as ztunnel reports them.
 * - source_principal: only the identity the agent saw or presented on the wire (ztunnel sets it
 *   from the mTLS handshake, never from the workload record). destination_principal falls back to
 *   the destination workload's SPIFFE identity, as in ztunnel.
 * - *_cluster: the workload's cluster id, else the first segment of its uid ("Kubernetes//Pod/ns/n").
 */
import { DEFAULT_TRUST_DOMAIN } from '../../common/identity/spiffe';
import type { Workload__Output } from '../../common/proto/generated/ambit/v1/Workload';

export const UNKNOWN = 'unknown';

export type Reporter = 'source' | 'destination';

/**
 * Envoy %RESPONSE_FLAGS% values the agent reports. ztunnel says "CONNECT" where Envoy says "UF";
 * we use Envoy's codes, which Kiali and Istio dashboards already know (anything but "-" is a failure).
 */
export const ResponseFlags = {
  NONE: '-',
  /** Refused by an AuthorizationPolicy or PeerAuthentication. */
  DENY: 'DENY',
  /** Upstream connect (or HBONE CONNECT) failed or timed out. */
  UPSTREAM_CONNECT_FAILURE: 'UF',
  /** The service has no ready endpoint. */
  NO_HEALTHY_UPSTREAM: 'UH',
  /** Nothing is known at the original destination (no workload, service or passthrough). */
  NO_ROUTE: 'NR',
} as const;
export type ResponseFlag = (typeof ResponseFlags)[keyof typeof ResponseFlags];

/**
 * Istio: "mutual_tls" when the connection was mTLS (HBONE), "none" when plaintext was accepted,
 * "unknown" when the reporter cannot tell.
 */
export type ConnectionSecurityPolicy = 'mutual_tls' | 'none' | 'unknown';

/** Label names in Istio's order; every metric in metrics.ts uses exactly these. */
export const CONNECTION_LABEL_NAMES = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_canonical_service',
  'source_canonical_revision',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_cluster',
  'request_protocol',
  'response_flags',
  'connection_security_policy',
] as const;
export type ConnectionLabelName = (typeof CONNECTION_LABEL_NAMES)[number];

export type ConnectionLabels = Readonly<Record<ConnectionLabelName, string>> & {
  readonly reporter: Reporter;
  readonly response_flags: ResponseFlag;
  readonly connection_security_policy: ConnectionSecurityPolicy;
};

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

export interface ServiceLike {
  /** e.g. reviews.bookinfo.svc.cluster.local */
  hostname: string;
  name: string;
  namespace: string;
}

export interface ConnectionLabelsInput {
  reporter: Reporter;
  source?: WorkloadLike;
  destination?: WorkloadLike;
  /** SPIFFE URI the source presented (inbound) or that the agent presented for it (outbound). */
  sourcePrincipal?: string;
  /** SPIFFE URI the destination presented; defaults to the destination workload's identity. */
  destinationPrincipal?: string;
  destinationService?: ServiceLike;
  /** Default "unknown". */
  security?: ConnectionSecurityPolicy;
  /** Default "-". */
  flags?: ResponseFlag;
}

const known = (v: string | undefined | null): string => (v === undefined || v === null || v === '' ? UNKNOWN : v);

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

function workloadLabels(w: WorkloadLike | undefined): {
  workload: string;
  namespace: string;
  app: string;
  version: string;
  canonicalService: string;
  canonicalRevision: string;
  cluster: string;
} {
  if (w === undefined) {
    return {
      workload: UNKNOWN,
      namespace: UNKNOWN,
      app: UNKNOWN,
      version: UNKNOWN,
      canonicalService: UNKNOWN,
      canonicalRevision: UNKNOWN,
      cluster: UNKNOWN,
    };
  }
  const canonical = canonicalServiceOf(w);
  return {
    workload: known(workloadNameOf(w)),
    namespace: known(w.namespace),
    app: known(appOf(w)),
    version: known(versionOf(w)),
    canonicalService: known(canonical.name),
    canonicalRevision: known(canonical.revision),
    cluster: known(clusterOf(w)),
  };
}

/** The full, frozen label set for one connection. */
export function connectionLabels(input: ConnectionLabelsInput): ConnectionLabels {
  const src = workloadLabels(input.source);
  const dst = workloadLabels(input.destination);
  const svc = input.destinationService;
  const destinationPrincipal =
    input.destinationPrincipal || (input.destination !== undefined ? identityOf(input.destination) : undefined);
  return Object.freeze({
    reporter: input.reporter,
    source_workload: src.workload,
    source_workload_namespace: src.namespace,
    source_principal: known(input.sourcePrincipal),
    source_app: src.app,
    source_version: src.version,
    source_canonical_service: src.canonicalService,
    source_canonical_revision: src.canonicalRevision,
    source_cluster: src.cluster,
    destination_workload: dst.workload,
    destination_workload_namespace: dst.namespace,
    destination_principal: known(destinationPrincipal),
    destination_app: dst.app,
    destination_version: dst.version,
    destination_service: known(svc?.hostname),
    destination_service_name: known(svc?.name),
    destination_service_namespace: known(svc?.namespace),
    destination_canonical_service: dst.canonicalService,
    destination_canonical_revision: dst.canonicalRevision,
    destination_cluster: dst.cluster,
    request_protocol: 'tcp',
    response_flags: input.flags ?? ResponseFlags.NONE,
    connection_security_policy: input.security ?? 'unknown',
  });
}

/** The same labels with other response flags (a connection's flags are only known at its end). */
export function withResponseFlags(labels: ConnectionLabels, flags: ResponseFlag): ConnectionLabels {
  return labels.response_flags === flags ? labels : Object.freeze({ ...labels, response_flags: flags });
}
