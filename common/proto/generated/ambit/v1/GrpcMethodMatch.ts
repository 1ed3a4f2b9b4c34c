// Original file: proto/ambit/v1/route.proto

import type { MatchType as _ambit_v1_MatchType, MatchType__Output as _ambit_v1_MatchType__Output } from '../../ambit/v1/MatchType';

export interface GrpcMethodMatch {
  'type'?: (_ambit_v1_MatchType);
  'service'?: (string);
  'method'?: (string);
}

export interface GrpcMethodMatch__Output {
  'type': (_ambit_v1_MatchType__Output);
  'service': (string);
  'method': (string);
}
