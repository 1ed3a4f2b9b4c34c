// Original file: proto/ambit/v1/route.proto

import type { MatchType as _ambit_v1_MatchType, MatchType__Output as _ambit_v1_MatchType__Output } from '../../ambit/v1/MatchType';

export interface PathMatch {
  'type'?: (_ambit_v1_MatchType);
  'value'?: (string);
}

export interface PathMatch__Output {
  'type': (_ambit_v1_MatchType__Output);
  'value': (string);
}
