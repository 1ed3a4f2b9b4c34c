// Original file: proto/ambit/v1/config.proto

export const ResourceType = {
  RESOURCE_TYPE_UNSPECIFIED: 'RESOURCE_TYPE_UNSPECIFIED',
  WORKLOAD: 'WORKLOAD',
  SERVICE: 'SERVICE',
  AUTHORIZATION: 'AUTHORIZATION',
  PEER_AUTHENTICATION: 'PEER_AUTHENTICATION',
  REQUEST_AUTHENTICATION: 'REQUEST_AUTHENTICATION',
  ROUTE: 'ROUTE',
  DESTINATION_POLICY: 'DESTINATION_POLICY',
} as const;

export type ResourceType =
  | 'RESOURCE_TYPE_UNSPECIFIED'
  | 0
  | 'WORKLOAD'
  | 1
  | 'SERVICE'
  | 2
  | 'AUTHORIZATION'
  | 3
  | 'PEER_AUTHENTICATION'
  | 4
  | 'REQUEST_AUTHENTICATION'
  | 5
  | 'ROUTE'
  | 6
  | 'DESTINATION_POLICY'
  | 7

export type ResourceType__Output = typeof ResourceType[keyof typeof ResourceType]
