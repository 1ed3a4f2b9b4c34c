// Original file: proto/ambit/v1/route.proto

import type { RouteFilter as _ambit_v1_RouteFilter, RouteFilter__Output as _ambit_v1_RouteFilter__Output } from '../../ambit/v1/RouteFilter';

export interface BackendRef {
  /**
   * Empty when the backend cannot be used (not a Service, or another namespace without a
   * ReferenceGrant): requests routed to it get 500, as Gateway API specifies.
   */
  'serviceHostname'?: (string);
  'serviceName'?: (string);
  'serviceNamespace'?: (string);
  'port'?: (number);
  /**
   * Default 1; 0 = receives no traffic.
   */
  'weight'?: (number);
  'filters'?: (_ambit_v1_RouteFilter)[];
}

export interface BackendRef__Output {
  /**
   * Empty when the backend cannot be used (not a Service, or another namespace without a
   * ReferenceGrant): requests routed to it get 500, as Gateway API specifies.
   */
  'serviceHostname': (string);
  'serviceName': (string);
  'serviceNamespace': (string);
  'port': (number);
  /**
   * Default 1; 0 = receives no traffic.
   */
  'weight': (number);
  'filters': (_ambit_v1_RouteFilter__Output)[];
}
