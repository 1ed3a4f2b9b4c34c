/**
 * The label set of Istio's standard TCP metrics, derived the way istio/ztunnel derives it
 * (src/proxy/metrics.rs, CommonTrafficLabels), so Istio's Grafana dashboards and Kiali read Ambit's
 * agent unchanged. Every missing or empty value is the literal "unknown", as Istio reports it.
 * How a workload or service becomes its source_* / destination_* labels lives in
 * common/telemetry/workload-labels.ts, shared with the waypoint's request metrics.
 *
 * - source_principal: only the identity the agent saw or presented on the wire (ztunnel sets it
 *   from the mTLS handshake, never from the workload record). destination_principal falls back to
 *   the destination workload's SPIFFE identity, as in ztunnel.
 */
import {
  UNKNOWN,
  identityOf,
  known,
  peerLabels,
  serviceLabels,
  type ServiceLike,
  type WorkloadLike,
} from '../../common/telemetry/workload-labels';

// Re-exported: the agent's callers and tests import these from here.
export {
  UNKNOWN,
  appOf,
  canonicalServiceOf,
  clusterOf,
  identityOf,
  versionOf,
  workloadNameOf,
  type ServiceLike,
  type WorkloadLike,
} from '../../common/telemetry/workload-labels';

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

/** The full, frozen label set for one connection. */
export function connectionLabels(input: ConnectionLabelsInput): ConnectionLabels {
  const src = peerLabels(input.source);
  const dst = peerLabels(input.destination);
  const svc = serviceLabels(input.destinationService);
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
    destination_service: svc.service,
    destination_service_name: svc.name,
    destination_service_namespace: svc.namespace,
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
