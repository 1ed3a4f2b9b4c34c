// Original file: proto/ambit/v1/route.proto

import type { PathModifier as _ambit_v1_PathModifier, PathModifier__Output as _ambit_v1_PathModifier__Output } from '../../ambit/v1/PathModifier';

export interface RequestRedirect {
  'scheme'?: (string);
  'hostname'?: (string);
  'path'?: (_ambit_v1_PathModifier | null);
  'port'?: (number);
  'statusCode'?: (number);
}

export interface RequestRedirect__Output {
  'scheme': (string);
  'hostname': (string);
  'path': (_ambit_v1_PathModifier__Output | null);
  'port': (number);
  'statusCode': (number);
}
