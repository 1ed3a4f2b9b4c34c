// Original file: proto/ambit/v1/route.proto

export const MatchType = {
  EXACT: 'EXACT',
  PATH_PREFIX: 'PATH_PREFIX',
  REGULAR_EXPRESSION: 'REGULAR_EXPRESSION',
} as const;

export type MatchType =
  | 'EXACT'
  | 0
  | 'PATH_PREFIX'
  | 1
  | 'REGULAR_EXPRESSION'
  | 2

export type MatchType__Output = typeof MatchType[keyof typeof MatchType]
