// Original file: proto/ambit/v1/destination.proto

import type { TrafficPolicy as _ambit_v1_TrafficPolicy, TrafficPolicy__Output as _ambit_v1_TrafficPolicy__Output } from '../../ambit/v1/TrafficPolicy';

export interface Subset {
  'name'?: (string);
  'labels'?: ({[key: string]: string});
  'trafficPolicy'?: (_ambit_v1_TrafficPolicy | null);
}

export interface Subset__Output {
  'name': (string);
  'labels': ({[key: string]: string});
  'trafficPolicy': (_ambit_v1_TrafficPolicy__Output | null);
}
