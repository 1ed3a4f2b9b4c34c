// Original file: proto/ambit/v1/destination.proto

import type { TcpPool as _ambit_v1_TcpPool, TcpPool__Output as _ambit_v1_TcpPool__Output } from '../../ambit/v1/TcpPool';
import type { HttpPool as _ambit_v1_HttpPool, HttpPool__Output as _ambit_v1_HttpPool__Output } from '../../ambit/v1/HttpPool';

export interface ConnectionPool {
  'tcp'?: (_ambit_v1_TcpPool | null);
  'http'?: (_ambit_v1_HttpPool | null);
}

export interface ConnectionPool__Output {
  'tcp': (_ambit_v1_TcpPool__Output | null);
  'http': (_ambit_v1_HttpPool__Output | null);
}
