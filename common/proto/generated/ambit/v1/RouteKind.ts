// Original file: proto/ambit/v1/route.proto

export const RouteKind = {
  HTTP: 'HTTP',
  GRPC: 'GRPC',
} as const;

export type RouteKind =
  | 'HTTP'
  | 0
  | 'GRPC'
  | 1

export type RouteKind__Output = typeof RouteKind[keyof typeof RouteKind]
