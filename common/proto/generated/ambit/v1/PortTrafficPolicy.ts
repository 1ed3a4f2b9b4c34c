// Original file: proto/ambit/v1/destination.proto

import type { TrafficPolicy as _ambit_v1_TrafficPolicy, TrafficPolicy__Output as _ambit_v1_TrafficPolicy__Output } from '../../ambit/v1/TrafficPolicy';

export interface PortTrafficPolicy {
  'port'?: (number);
  'trafficPolicy'?: (_ambit_v1_TrafficPolicy | null);
}

export interface PortTrafficPolicy__Output {
  'port': (number);
  'trafficPolicy': (_ambit_v1_TrafficPolicy__Output | null);
}
