// Original file: proto/ambit/v1/destination.proto

import type { SimpleLoadBalancer as _ambit_v1_SimpleLoadBalancer, SimpleLoadBalancer__Output as _ambit_v1_SimpleLoadBalancer__Output } from '../../ambit/v1/SimpleLoadBalancer';
import type { ConsistentHash as _ambit_v1_ConsistentHash, ConsistentHash__Output as _ambit_v1_ConsistentHash__Output } from '../../ambit/v1/ConsistentHash';

export interface LoadBalancer {
  'simple'?: (_ambit_v1_SimpleLoadBalancer);
  'consistentHash'?: (_ambit_v1_ConsistentHash | null);
}

export interface LoadBalancer__Output {
  'simple': (_ambit_v1_SimpleLoadBalancer__Output);
  'consistentHash': (_ambit_v1_ConsistentHash__Output | null);
}
