/**
 * The label set of Istio's standard HTTP/gRPC metrics as a waypoint reports them (reporter
 * "waypoint"), so Istio's dashboards and Kiali read Ambit's waypoint unchanged. Peers become labels
 * exactly as the agent's TCP metrics do (common/telemetry/workload-labels.ts).
 *
 * Istio specifics kept here:
 * - principals are full SPIFFE URIs ("spiffe://cluster.local/ns/x/sa/y"); the destination's falls
 *   back to the destination workload's identity, as ztunnel does.
 * - grpc_response_status is "" for plain HTTP requests (Istio's istio_stats filter); for gRPC it is
 *   the grpc-status the upstream sent, else derived from the HTTP status as Envoy does
 *   (grpc/grpc doc/http-grpc-status-mapping.md).
 * - connection_security_policy is "mutual_tls" for an HBONE (mTLS) request, "none" otherwise.
 */
import type { Service__Output } from '../../common/proto/generated/ambit/v1/Service';
import type { Workload__Output } from '../../common/proto/generated/ambit/v1/Workload';
import { identityOf, peerLabels, principalLabel, serviceLabels, type WorkloadLike } from '../../common/telemetry/workload-labels';

/** Label names in Istio's order; every request metric uses exactly these. */
export const REQUEST_LABEL_NAMES = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_cluster',
  'source_canonical_service',
  'source_canonical_revision',
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
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
] as const;
export type RequestLabelName = (typeof REQUEST_LABEL_NAMES)[number];

export type RequestLabels = Readonly<Record<RequestLabelName, string>> & {
  readonly reporter: 'waypoint';
  readonly request_protocol: 'http' | 'grpc';
  readonly connection_security_policy: 'mutual_tls' | 'none';
};

export interface RequestLabelsInput {
  source?: WorkloadLike;
  /** SPIFFE URI or Istio principal ("td/ns/x/sa/y") from the client's certificate. */
  sourcePrincipal?: string;
  destination?: Workload__Output;
  destinationService?: Service__Output;
  /** Defaults to the destination workload's identity. */
  destinationPrincipal?: string;
  grpc: boolean;
  /** HTTP status sent downstream; 0 when no response was sent (Istio reports "0"). */
  responseCode: number;
  /** grpc-status from the response trailers (or headers, for a trailers-only response). */
  grpcStatus?: number;
  /** Envoy %RESPONSE_FLAGS%, "-" when none. */
  responseFlags: string;
  mtls: boolean;
  /** This waypoint's cluster id, for workloads whose own record names none. */
  clusterName?: string;
}

/** gRPC status for an HTTP status when the upstream sent no grpc-status (Envoy's httpToGrpcStatus). */
export function grpcStatusForHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

// Status codes repeat on every request; keep their strings instead of formatting each time.
const codeStrings = new Map<number, string>();
function codeString(code: number): string {
  let s = codeStrings.get(code);
  if (s === undefined) {
    s = String(code);
    if (codeStrings.size < 1024) codeStrings.set(code, s);
  }
  return s;
}

export function requestLabels(input: RequestLabelsInput): RequestLabels {
  const src = peerLabels(input.source, input.clusterName);
  const dst = peerLabels(input.destination, input.clusterName);
  const svc = serviceLabels(input.destinationService);
  const destinationPrincipal =
    input.destinationPrincipal || (input.destination !== undefined ? identityOf(input.destination) : undefined);
  let grpcStatus = '';
  if (input.grpc) grpcStatus = codeString(input.grpcStatus ?? grpcStatusForHttp(input.responseCode));
  return Object.freeze({
    reporter: 'waypoint',
    source_workload: src.workload,
    source_workload_namespace: src.namespace,
    source_principal: principalLabel(input.sourcePrincipal),
    source_app: src.app,
    source_version: src.version,
    source_cluster: src.cluster,
    source_canonical_service: src.canonicalService,
    source_canonical_revision: src.canonicalRevision,
    destination_workload: dst.workload,
    destination_workload_namespace: dst.namespace,
    destination_principal: principalLabel(destinationPrincipal),
    destination_app: dst.app,
    destination_version: dst.version,
    destination_service: svc.service,
    destination_service_name: svc.name,
    destination_service_namespace: svc.namespace,
    destination_canonical_service: dst.canonicalService,
    destination_canonical_revision: dst.canonicalRevision,
    destination_cluster: dst.cluster,
    request_protocol: input.grpc ? 'grpc' : 'http',
    response_code: codeString(input.responseCode),
    grpc_response_status: grpcStatus,
    response_flags: input.responseFlags || '-',
    connection_security_policy: input.mtls ? 'mutual_tls' : 'none',
  });
}
