/** How one attempt to an upstream endpoint ended, as outlier detection and retries classify it. */
export interface UpstreamOutcome {
  /** HTTP status of the response, when there was one. */
  readonly status?: number;
  /** The connection (or HBONE tunnel) to the endpoint could not be established. */
  readonly connectFailure?: boolean;
  /** The stream or connection was reset before a response arrived. */
  readonly reset?: boolean;
  /** The per-try (backendRequest) timeout fired before a response arrived. */
  readonly timeout?: boolean;
  /** grpc-status of a gRPC response (trailers or trailers-only), when there was one. */
  readonly grpcStatus?: number;
}

/**
 * The status Envoy maps a locally-originated failure to when split_external_local_origin_errors is
 * off (Istio's setting): connect failure and reset = 503, timeout = 504. Undefined when the
 * outcome carries neither a status nor a failure.
 */
export function effectiveStatus(o: UpstreamOutcome): number | undefined {
  if (o.connectFailure === true || o.reset === true) return 503;
  if (o.timeout === true) return 504;
  return o.status;
}
