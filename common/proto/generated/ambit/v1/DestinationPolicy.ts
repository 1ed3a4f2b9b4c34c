// Original file: proto/ambit/v1/destination.proto

import type { TrafficPolicy as _ambit_v1_TrafficPolicy, TrafficPolicy__Output as _ambit_v1_TrafficPolicy__Output } from '../../ambit/v1/TrafficPolicy';
import type { PortTrafficPolicy as _ambit_v1_PortTrafficPolicy, PortTrafficPolicy__Output as _ambit_v1_PortTrafficPolicy__Output } from '../../ambit/v1/PortTrafficPolicy';
import type { Subset as _ambit_v1_Subset, Subset__Output as _ambit_v1_Subset__Output } from '../../ambit/v1/Subset';

export interface DestinationPolicy {
  'name'?: (string);
  'namespace'?: (string);
  /**
   * Fully qualified destination host (a Service hostname).
   */
  'host'?: (string);
  'trafficPolicy'?: (_ambit_v1_TrafficPolicy | null);
  'portLevelSettings'?: (_ambit_v1_PortTrafficPolicy)[];
  'subsets'?: (_ambit_v1_Subset)[];
}

export interface DestinationPolicy__Output {
  'name': (string);
  'namespace': (string);
  /**
   * Fully qualified destination host (a Service hostname).
   */
  'host': (string);
  'trafficPolicy': (_ambit_v1_TrafficPolicy__Output | null);
  'portLevelSettings': (_ambit_v1_PortTrafficPolicy__Output)[];
  'subsets': (_ambit_v1_Subset__Output)[];
}
