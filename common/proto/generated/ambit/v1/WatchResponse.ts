// Original file: proto/ambit/v1/config.proto

import type { Resource as _ambit_v1_Resource, Resource__Output as _ambit_v1_Resource__Output } from '../../ambit/v1/Resource';
import type { ResourceKey as _ambit_v1_ResourceKey, ResourceKey__Output as _ambit_v1_ResourceKey__Output } from '../../ambit/v1/ResourceKey';

export interface WatchResponse {
  /**
   * Monotonic per server start, e.g. "7f3a-42": the server instance and a counter.
   */
  'version'?: (string);
  /**
   * True for a full snapshot: the client replaces its state with exactly `added`.
   */
  'snapshot'?: (boolean);
  'added'?: (_ambit_v1_Resource)[];
  'updated'?: (_ambit_v1_Resource)[];
  'removed'?: (_ambit_v1_ResourceKey)[];
}

export interface WatchResponse__Output {
  /**
   * Monotonic per server start, e.g. "7f3a-42": the server instance and a counter.
   */
  'version': (string);
  /**
   * True for a full snapshot: the client replaces its state with exactly `added`.
   */
  'snapshot': (boolean);
  'added': (_ambit_v1_Resource__Output)[];
  'updated': (_ambit_v1_Resource__Output)[];
  'removed': (_ambit_v1_ResourceKey__Output)[];
}
