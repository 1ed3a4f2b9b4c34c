// Original file: proto/ambit/v1/route.proto


/**
 * A Service (and optional port) the route is attached to.
 */
export interface RouteParent {
  'serviceHostname'?: (string);
  'serviceName'?: (string);
  'serviceNamespace'?: (string);
  /**
   * 0 = every port.
   */
  'port'?: (number);
}

/**
 * A Service (and optional port) the route is attached to.
 */
export interface RouteParent__Output {
  'serviceHostname': (string);
  'serviceName': (string);
  'serviceNamespace': (string);
  /**
   * 0 = every port.
   */
  'port': (number);
}
