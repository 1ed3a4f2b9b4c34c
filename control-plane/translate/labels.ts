// Well-known labels and annotations (Istio's names, so existing manifests work unchanged) and
// label-selector matching.

export const Labels = {
  /** On a namespace or pod: "ambient" enrolls, "none" opts out (pod wins over namespace). */
  DATAPLANE_MODE: 'istio.io/dataplane-mode',
  /** On a namespace, service or pod: the waypoint (Gateway name) its traffic goes through; "none" opts out. */
  USE_WAYPOINT: 'istio.io/use-waypoint',
  /** Namespace of that waypoint when it is not the object's own. */
  USE_WAYPOINT_NAMESPACE: 'istio.io/use-waypoint-namespace',
  /** On a waypoint Gateway: which traffic it handles: service (default), workload, all, none. */
  WAYPOINT_FOR: 'istio.io/waypoint-for',
  /** Set on a waypoint's pods (by the Gateway controller, or by hand locally). */
  GATEWAY_NAME: 'gateway.networking.k8s.io/gateway-name',
  CANONICAL_NAME: 'service.istio.io/canonical-name',
  CANONICAL_REVISION: 'service.istio.io/canonical-revision',
  APP_K8S_NAME: 'app.kubernetes.io/name',
  APP_K8S_VERSION: 'app.kubernetes.io/version',
  APP: 'app',
  VERSION: 'version',
} as const;

export const Annotations = {
  /** Istio: an AuthorizationPolicy evaluated and logged but not enforced. */
  DRY_RUN: 'istio.io/dry-run',
  /** Ambit: DestinationRule retry budget, "<percent>" or "<percent>,<min concurrency>". */
  RETRY_BUDGET: 'ambit.dev/retry-budget',
  /** A pod with an injected sidecar is not captured by the ambient data plane. */
  SIDECAR_STATUS: 'sidecar.istio.io/status',
} as const;

export const WAYPOINT_CLASSES: ReadonlySet<string> = new Set(['istio-waypoint', 'ambit-waypoint']);

/** matchLabels semantics: every selector entry present with the same value. Empty matches all. */
export function matchesSelector(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (selector === undefined) return true;
  for (const [k, v] of Object.entries(selector)) {
    if (labels?.[k] !== v) return false;
  }
  return true;
}
