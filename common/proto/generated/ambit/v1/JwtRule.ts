// Original file: proto/ambit/v1/authentication.proto

import type { JwtHeader as _ambit_v1_JwtHeader, JwtHeader__Output as _ambit_v1_JwtHeader__Output } from '../../ambit/v1/JwtHeader';
import type { ClaimToHeader as _ambit_v1_ClaimToHeader, ClaimToHeader__Output as _ambit_v1_ClaimToHeader__Output } from '../../ambit/v1/ClaimToHeader';

export interface JwtRule {
  'issuer'?: (string);
  'audiences'?: (string)[];
  'jwksUri'?: (string);
  /**
   * Inline JWKS document (JSON).
   */
  'jwks'?: (string);
  'fromHeaders'?: (_ambit_v1_JwtHeader)[];
  'fromParams'?: (string)[];
  'fromCookies'?: (string)[];
  'forwardOriginalToken'?: (boolean);
  'outputClaimToHeaders'?: (_ambit_v1_ClaimToHeader)[];
  'outputPayloadToHeader'?: (string);
  'timeoutMs'?: (number);
}

export interface JwtRule__Output {
  'issuer': (string);
  'audiences': (string)[];
  'jwksUri': (string);
  /**
   * Inline JWKS document (JSON).
   */
  'jwks': (string);
  'fromHeaders': (_ambit_v1_JwtHeader__Output)[];
  'fromParams': (string)[];
  'fromCookies': (string)[];
  'forwardOriginalToken': (boolean);
  'outputClaimToHeaders': (_ambit_v1_ClaimToHeader__Output)[];
  'outputPayloadToHeader': (string);
  'timeoutMs': (number);
}
