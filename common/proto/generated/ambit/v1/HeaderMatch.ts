// Original file: proto/ambit/v1/route.proto

import type { MatchType as _ambit_v1_MatchType, MatchType__Output as _ambit_v1_MatchType__Output } from '../../ambit/v1/MatchType';

export interface HeaderMatch {
  'type'?: (_ambit_v1_MatchType);
  'name'?: (string);
  'value'?: (string);
}

export interface HeaderMatch__Output {
  'type': (_ambit_v1_MatchType__Output);
  'name': (string);
  'value': (string);
}
