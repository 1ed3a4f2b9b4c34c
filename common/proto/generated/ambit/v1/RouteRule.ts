// Original file: proto/ambit/v1/route.proto

import type { RouteMatch as _ambit_v1_RouteMatch, RouteMatch__Output as _ambit_v1_RouteMatch__Output } from '../../ambit/v1/RouteMatch';
import type { RouteFilter as _ambit_v1_RouteFilter, RouteFilter__Output as _ambit_v1_RouteFilter__Output } from '../../ambit/v1/RouteFilter';
import type { BackendRef as _ambit_v1_BackendRef, BackendRef__Output as _ambit_v1_BackendRef__Output } from '../../ambit/v1/BackendRef';
import type { RouteTimeouts as _ambit_v1_RouteTimeouts, RouteTimeouts__Output as _ambit_v1_RouteTimeouts__Output } from '../../ambit/v1/RouteTimeouts';
import type { RouteRetry as _ambit_v1_RouteRetry, RouteRetry__Output as _ambit_v1_RouteRetry__Output } from '../../ambit/v1/RouteRetry';

export interface RouteRule {
  'name'?: (string);
  'matches'?: (_ambit_v1_RouteMatch)[];
  'filters'?: (_ambit_v1_RouteFilter)[];
  'backendRefs'?: (_ambit_v1_BackendRef)[];
  'timeouts'?: (_ambit_v1_RouteTimeouts | null);
  'retry'?: (_ambit_v1_RouteRetry | null);
}

export interface RouteRule__Output {
  'name': (string);
  'matches': (_ambit_v1_RouteMatch__Output)[];
  'filters': (_ambit_v1_RouteFilter__Output)[];
  'backendRefs': (_ambit_v1_BackendRef__Output)[];
  'timeouts': (_ambit_v1_RouteTimeouts__Output | null);
  'retry': (_ambit_v1_RouteRetry__Output | null);
}
