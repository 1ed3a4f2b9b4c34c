// Original file: proto/ambit/v1/route.proto

import type { PathModifier as _ambit_v1_PathModifier, PathModifier__Output as _ambit_v1_PathModifier__Output } from '../../ambit/v1/PathModifier';

export interface UrlRewrite {
  'hostname'?: (string);
  'path'?: (_ambit_v1_PathModifier | null);
}

export interface UrlRewrite__Output {
  'hostname': (string);
  'path': (_ambit_v1_PathModifier__Output | null);
}
