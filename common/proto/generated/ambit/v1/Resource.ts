// Original file: proto/ambit/v1/config.proto

import type { ResourceKey as _ambit_v1_ResourceKey, ResourceKey__Output as _ambit_v1_ResourceKey__Output } from '../../ambit/v1/ResourceKey';
import type { Workload as _ambit_v1_Workload, Workload__Output as _ambit_v1_Workload__Output } from '../../ambit/v1/Workload';
import type { Service as _ambit_v1_Service, Service__Output as _ambit_v1_Service__Output } from '../../ambit/v1/Service';
import type { Authorization as _ambit_v1_Authorization, Authorization__Output as _ambit_v1_Authorization__Output } from '../../ambit/v1/Authorization';
import type { PeerAuthentication as _ambit_v1_PeerAuthentication, PeerAuthentication__Output as _ambit_v1_PeerAuthentication__Output } from '../../ambit/v1/PeerAuthentication';
import type { RequestAuthentication as _ambit_v1_RequestAuthentication, RequestAuthentication__Output as _ambit_v1_RequestAuthentication__Output } from '../../ambit/v1/RequestAuthentication';
import type { Route as _ambit_v1_Route, Route__Output as _ambit_v1_Route__Output } from '../../ambit/v1/Route';
import type { DestinationPolicy as _ambit_v1_DestinationPolicy, DestinationPolicy__Output as _ambit_v1_DestinationPolicy__Output } from '../../ambit/v1/DestinationPolicy';

export interface Resource {
  /**
   * Left off the wire when it is the resource's natural key, which the client derives from the
   * resource itself (common/proto/wire-form.ts): a workload's uid; "<namespace>/<name>";
   * routes: "<HTTPRoute|GRPCRoute>/<namespace>/<name>". Set whenever it differs.
   */
  'key'?: (_ambit_v1_ResourceKey | null);
  'workload'?: (_ambit_v1_Workload | null);
  'service'?: (_ambit_v1_Service | null);
  'authorization'?: (_ambit_v1_Authorization | null);
  'peerAuthentication'?: (_ambit_v1_PeerAuthentication | null);
  'requestAuthentication'?: (_ambit_v1_RequestAuthentication | null);
  'route'?: (_ambit_v1_Route | null);
  'destinationPolicy'?: (_ambit_v1_DestinationPolicy | null);
  'kind'?: "workload"|"service"|"authorization"|"peerAuthentication"|"requestAuthentication"|"route"|"destinationPolicy";
}

export interface Resource__Output {
  /**
   * Left off the wire when it is the resource's natural key, which the client derives from the
   * resource itself (common/proto/wire-form.ts): a workload's uid; "<namespace>/<name>";
   * routes: "<HTTPRoute|GRPCRoute>/<namespace>/<name>". Set whenever it differs.
   */
  'key': (_ambit_v1_ResourceKey__Output | null);
  'workload'?: (_ambit_v1_Workload__Output | null);
  'service'?: (_ambit_v1_Service__Output | null);
  'authorization'?: (_ambit_v1_Authorization__Output | null);
  'peerAuthentication'?: (_ambit_v1_PeerAuthentication__Output | null);
  'requestAuthentication'?: (_ambit_v1_RequestAuthentication__Output | null);
  'route'?: (_ambit_v1_Route__Output | null);
  'destinationPolicy'?: (_ambit_v1_DestinationPolicy__Output | null);
  'kind'?: "workload"|"service"|"authorization"|"peerAuthentication"|"requestAuthentication"|"route"|"destinationPolicy";
}
