// Original file: proto/ambit/v1/config.proto

import type { ResourceKey as _ambit_v1_ResourceKey, ResourceKey__Output as _ambit_v1_ResourceKey__Output } from '../../ambit/v1/ResourceKey';

export interface ResourceError {
  'key'?: (_ambit_v1_ResourceKey | null);
  'message'?: (string);
}

export interface ResourceError__Output {
  'key': (_ambit_v1_ResourceKey__Output | null);
  'message': (string);
}
