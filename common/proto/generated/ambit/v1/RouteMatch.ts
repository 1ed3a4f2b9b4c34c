// Original file: proto/ambit/v1/route.proto

import type { PathMatch as _ambit_v1_PathMatch, PathMatch__Output as _ambit_v1_PathMatch__Output } from '../../ambit/v1/PathMatch';
import type { HeaderMatch as _ambit_v1_HeaderMatch, HeaderMatch__Output as _ambit_v1_HeaderMatch__Output } from '../../ambit/v1/HeaderMatch';
import type { GrpcMethodMatch as _ambit_v1_GrpcMethodMatch, GrpcMethodMatch__Output as _ambit_v1_GrpcMethodMatch__Output } from '../../ambit/v1/GrpcMethodMatch';

export interface RouteMatch {
  'path'?: (_ambit_v1_PathMatch | null);
  'headers'?: (_ambit_v1_HeaderMatch)[];
  'queryParams'?: (_ambit_v1_HeaderMatch)[];
  /**
   * Empty = any method.
   */
  'method'?: (string);
  'grpcMethod'?: (_ambit_v1_GrpcMethodMatch | null);
}

export interface RouteMatch__Output {
  'path': (_ambit_v1_PathMatch__Output | null);
  'headers': (_ambit_v1_HeaderMatch__Output)[];
  'queryParams': (_ambit_v1_HeaderMatch__Output)[];
  /**
   * Empty = any method.
   */
  'method': (string);
  'grpcMethod': (_ambit_v1_GrpcMethodMatch__Output | null);
}
