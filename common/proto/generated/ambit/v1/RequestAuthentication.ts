// Original file: proto/ambit/v1/authentication.proto

import type { PolicyScope as _ambit_v1_PolicyScope, PolicyScope__Output as _ambit_v1_PolicyScope__Output } from '../../ambit/v1/PolicyScope';
import type { PolicyTargetRef as _ambit_v1_PolicyTargetRef, PolicyTargetRef__Output as _ambit_v1_PolicyTargetRef__Output } from '../../ambit/v1/PolicyTargetRef';
import type { JwtRule as _ambit_v1_JwtRule, JwtRule__Output as _ambit_v1_JwtRule__Output } from '../../ambit/v1/JwtRule';

export interface RequestAuthentication {
  'name'?: (string);
  'namespace'?: (string);
  'scope'?: (_ambit_v1_PolicyScope);
  'selector'?: ({[key: string]: string});
  'targetRefs'?: (_ambit_v1_PolicyTargetRef)[];
  'jwtRules'?: (_ambit_v1_JwtRule)[];
}

export interface RequestAuthentication__Output {
  'name': (string);
  'namespace': (string);
  'scope': (_ambit_v1_PolicyScope__Output);
  'selector': ({[key: string]: string});
  'targetRefs': (_ambit_v1_PolicyTargetRef__Output)[];
  'jwtRules': (_ambit_v1_JwtRule__Output)[];
}
