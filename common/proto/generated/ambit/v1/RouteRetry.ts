// Original file: proto/ambit/v1/route.proto


/**
 * HTTPRoute `retry` (GEP-1731).
 */
export interface RouteRetry {
  /**
   * Status codes that trigger a retry (e.g. 500, 502, 503, 504).
   */
  'codes'?: (number)[];
  'attempts'?: (number);
  'backoffMs'?: (number);
}

/**
 * HTTPRoute `retry` (GEP-1731).
 */
export interface RouteRetry__Output {
  /**
   * Status codes that trigger a retry (e.g. 500, 502, 503, 504).
   */
  'codes': (number)[];
  'attempts': (number);
  'backoffMs': (number);
}
