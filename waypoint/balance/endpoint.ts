/**
 * The least a load balancer, outlier detector or pool needs to know about an upstream endpoint.
 * Callers pass richer objects (workload name, locality, ...); the balancing functions are generic
 * over `E extends UpstreamEndpoint` so they hand back the caller's own object.
 */
export interface UpstreamEndpoint {
  /** Stable identity of the endpoint (workload uid + port), used as the key for all per-endpoint state. */
  readonly uid: string;
  readonly address: string;
  readonly port: number;
}
