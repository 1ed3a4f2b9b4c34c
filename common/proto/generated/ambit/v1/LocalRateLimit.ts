// Original file: proto/ambit/v1/route.proto


/**
 * Ambit's local rate limit (an ExtensionRef to a LocalRateLimit resource), with Envoy
 * local_ratelimit token_bucket semantics: each waypoint replica keeps one bucket per filter that
 * references it. The bucket starts full with max_tokens and gains tokens_per_fill every
 * fill_interval_ms, up to max_tokens; a request takes one token or is answered 429 (gRPC routes:
 * RESOURCE_EXHAUSTED, as Envoy's rate_limited_as_resource_exhausted). All three are >= 1.
 */
export interface LocalRateLimit {
  'maxTokens'?: (number);
  'tokensPerFill'?: (number);
  'fillIntervalMs'?: (number);
}

/**
 * Ambit's local rate limit (an ExtensionRef to a LocalRateLimit resource), with Envoy
 * local_ratelimit token_bucket semantics: each waypoint replica keeps one bucket per filter that
 * references it. The bucket starts full with max_tokens and gains tokens_per_fill every
 * fill_interval_ms, up to max_tokens; a request takes one token or is answered 429 (gRPC routes:
 * RESOURCE_EXHAUSTED, as Envoy's rate_limited_as_resource_exhausted). All three are >= 1.
 */
export interface LocalRateLimit__Output {
  'maxTokens': (number);
  'tokensPerFill': (number);
  'fillIntervalMs': (number);
}
