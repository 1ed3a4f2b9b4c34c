// Original file: proto/ambit/v1/authentication.proto

export const MtlsMode = {
  /**
   * Inherit from the parent scope (namespace, then mesh); PERMISSIVE when nothing sets it.
   */
  UNSET: 'UNSET',
  /**
   * Ambient: HBONE is always mTLS, so DISABLE only stops plaintext being refused (like PERMISSIVE).
   */
  DISABLE: 'DISABLE',
  PERMISSIVE: 'PERMISSIVE',
  STRICT: 'STRICT',
} as const;

export type MtlsMode =
  /**
   * Inherit from the parent scope (namespace, then mesh); PERMISSIVE when nothing sets it.
   */
  | 'UNSET'
  | 0
  /**
   * Ambient: HBONE is always mTLS, so DISABLE only stops plaintext being refused (like PERMISSIVE).
   */
  | 'DISABLE'
  | 1
  | 'PERMISSIVE'
  | 2
  | 'STRICT'
  | 3

export type MtlsMode__Output = typeof MtlsMode[keyof typeof MtlsMode]
