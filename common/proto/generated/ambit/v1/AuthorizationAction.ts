// Original file: proto/ambit/v1/authorization.proto

export const AuthorizationAction = {
  ALLOW: 'ALLOW',
  DENY: 'DENY',
  AUDIT: 'AUDIT',
} as const;

export type AuthorizationAction =
  | 'ALLOW'
  | 0
  | 'DENY'
  | 1
  | 'AUDIT'
  | 2

export type AuthorizationAction__Output = typeof AuthorizationAction[keyof typeof AuthorizationAction]
