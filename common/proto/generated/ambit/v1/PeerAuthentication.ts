// Original file: proto/ambit/v1/authentication.proto

import type { PolicyScope as _ambit_v1_PolicyScope, PolicyScope__Output as _ambit_v1_PolicyScope__Output } from '../../ambit/v1/PolicyScope';
import type { MtlsMode as _ambit_v1_MtlsMode, MtlsMode__Output as _ambit_v1_MtlsMode__Output } from '../../ambit/v1/MtlsMode';

export interface PeerAuthentication {
  'name'?: (string);
  'namespace'?: (string);
  'scope'?: (_ambit_v1_PolicyScope);
  'selector'?: ({[key: string]: string});
  'mode'?: (_ambit_v1_MtlsMode);
  'portLevelMtls'?: ({[key: number]: _ambit_v1_MtlsMode});
}

export interface PeerAuthentication__Output {
  'name': (string);
  'namespace': (string);
  'scope': (_ambit_v1_PolicyScope__Output);
  'selector': ({[key: string]: string});
  'mode': (_ambit_v1_MtlsMode__Output);
  'portLevelMtls': ({[key: number]: _ambit_v1_MtlsMode__Output});
}
