// Original file: proto/ambit/v1/route.proto

import type { BackendRef as _ambit_v1_BackendRef, BackendRef__Output as _ambit_v1_BackendRef__Output } from '../../ambit/v1/BackendRef';

export interface RequestMirror {
  'backend'?: (_ambit_v1_BackendRef | null);
  /**
   * 0..100; 100 when unset in the source.
   */
  'percent'?: (number | string);
}

export interface RequestMirror__Output {
  'backend': (_ambit_v1_BackendRef__Output | null);
  /**
   * 0..100; 100 when unset in the source.
   */
  'percent': (number);
}
