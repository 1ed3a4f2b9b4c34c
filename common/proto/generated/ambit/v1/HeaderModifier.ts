// Original file: proto/ambit/v1/route.proto

import type { HeaderValue as _ambit_v1_HeaderValue, HeaderValue__Output as _ambit_v1_HeaderValue__Output } from '../../ambit/v1/HeaderValue';

export interface HeaderModifier {
  'set'?: (_ambit_v1_HeaderValue)[];
  'add'?: (_ambit_v1_HeaderValue)[];
  'remove'?: (string)[];
}

export interface HeaderModifier__Output {
  'set': (_ambit_v1_HeaderValue__Output)[];
  'add': (_ambit_v1_HeaderValue__Output)[];
  'remove': (string)[];
}
