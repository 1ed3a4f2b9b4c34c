// Original file: proto/ambit/v1/authorization.proto

import type { Source as _ambit_v1_Source, Source__Output as _ambit_v1_Source__Output } from '../../ambit/v1/Source';
import type { Operation as _ambit_v1_Operation, Operation__Output as _ambit_v1_Operation__Output } from '../../ambit/v1/Operation';
import type { Condition as _ambit_v1_Condition, Condition__Output as _ambit_v1_Condition__Output } from '../../ambit/v1/Condition';

export interface Rule {
  'from'?: (_ambit_v1_Source)[];
  'to'?: (_ambit_v1_Operation)[];
  'when'?: (_ambit_v1_Condition)[];
}

export interface Rule__Output {
  'from': (_ambit_v1_Source__Output)[];
  'to': (_ambit_v1_Operation__Output)[];
  'when': (_ambit_v1_Condition__Output)[];
}
