// Original file: proto/ambit/v1/config.proto

import type { ResourceType as _ambit_v1_ResourceType, ResourceType__Output as _ambit_v1_ResourceType__Output } from '../../ambit/v1/ResourceType';

export interface ResourceKey {
  'type'?: (_ambit_v1_ResourceType);
  /**
   * "<namespace>/<name>"; workloads: their uid; routes: "<HTTPRoute|GRPCRoute>/<namespace>/<name>".
   */
  'name'?: (string);
}

export interface ResourceKey__Output {
  'type': (_ambit_v1_ResourceType__Output);
  /**
   * "<namespace>/<name>"; workloads: their uid; routes: "<HTTPRoute|GRPCRoute>/<namespace>/<name>".
   */
  'name': (string);
}
