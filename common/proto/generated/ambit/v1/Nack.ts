// Original file: proto/ambit/v1/config.proto

import type { ResourceError as _ambit_v1_ResourceError, ResourceError__Output as _ambit_v1_ResourceError__Output } from '../../ambit/v1/ResourceError';

export interface Nack {
  'version'?: (string);
  'message'?: (string);
  'errors'?: (_ambit_v1_ResourceError)[];
}

export interface Nack__Output {
  'version': (string);
  'message': (string);
  'errors': (_ambit_v1_ResourceError__Output)[];
}
