// Original file: proto/ambit/v1/route.proto

import type { RouteKind as _ambit_v1_RouteKind, RouteKind__Output as _ambit_v1_RouteKind__Output } from '../../ambit/v1/RouteKind';
import type { RouteParent as _ambit_v1_RouteParent, RouteParent__Output as _ambit_v1_RouteParent__Output } from '../../ambit/v1/RouteParent';
import type { RouteRule as _ambit_v1_RouteRule, RouteRule__Output as _ambit_v1_RouteRule__Output } from '../../ambit/v1/RouteRule';
import type { Long } from '@grpc/proto-loader';

export interface Route {
  'name'?: (string);
  'namespace'?: (string);
  'kind'?: (_ambit_v1_RouteKind);
  'parents'?: (_ambit_v1_RouteParent)[];
  'hostnames'?: (string)[];
  'rules'?: (_ambit_v1_RouteRule)[];
  /**
   * metadata.creationTimestamp, for Gateway API precedence (oldest first, then namespace/name).
   */
  'creationTimestampMs'?: (number | string | Long);
}

export interface Route__Output {
  'name': (string);
  'namespace': (string);
  'kind': (_ambit_v1_RouteKind__Output);
  'parents': (_ambit_v1_RouteParent__Output)[];
  'hostnames': (string)[];
  'rules': (_ambit_v1_RouteRule__Output)[];
  /**
   * metadata.creationTimestamp, for Gateway API precedence (oldest first, then namespace/name).
   */
  'creationTimestampMs': (number);
}
