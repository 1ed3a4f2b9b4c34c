// Original file: proto/ambit/v1/destination.proto

import type { LoadBalancer as _ambit_v1_LoadBalancer, LoadBalancer__Output as _ambit_v1_LoadBalancer__Output } from '../../ambit/v1/LoadBalancer';
import type { ConnectionPool as _ambit_v1_ConnectionPool, ConnectionPool__Output as _ambit_v1_ConnectionPool__Output } from '../../ambit/v1/ConnectionPool';
import type { OutlierDetection as _ambit_v1_OutlierDetection, OutlierDetection__Output as _ambit_v1_OutlierDetection__Output } from '../../ambit/v1/OutlierDetection';
import type { RetryBudget as _ambit_v1_RetryBudget, RetryBudget__Output as _ambit_v1_RetryBudget__Output } from '../../ambit/v1/RetryBudget';

export interface TrafficPolicy {
  'loadBalancer'?: (_ambit_v1_LoadBalancer | null);
  'connectionPool'?: (_ambit_v1_ConnectionPool | null);
  'outlierDetection'?: (_ambit_v1_OutlierDetection | null);
  'retryBudget'?: (_ambit_v1_RetryBudget | null);
}

export interface TrafficPolicy__Output {
  'loadBalancer': (_ambit_v1_LoadBalancer__Output | null);
  'connectionPool': (_ambit_v1_ConnectionPool__Output | null);
  'outlierDetection': (_ambit_v1_OutlierDetection__Output | null);
  'retryBudget': (_ambit_v1_RetryBudget__Output | null);
}
