// Original file: proto/ambit/v1/config.proto

import type { Subscribe as _ambit_v1_Subscribe, Subscribe__Output as _ambit_v1_Subscribe__Output } from '../../ambit/v1/Subscribe';
import type { Ack as _ambit_v1_Ack, Ack__Output as _ambit_v1_Ack__Output } from '../../ambit/v1/Ack';
import type { Nack as _ambit_v1_Nack, Nack__Output as _ambit_v1_Nack__Output } from '../../ambit/v1/Nack';

export interface WatchRequest {
  'subscribe'?: (_ambit_v1_Subscribe | null);
  'ack'?: (_ambit_v1_Ack | null);
  'nack'?: (_ambit_v1_Nack | null);
  'request'?: "subscribe"|"ack"|"nack";
}

export interface WatchRequest__Output {
  'subscribe'?: (_ambit_v1_Subscribe__Output | null);
  'ack'?: (_ambit_v1_Ack__Output | null);
  'nack'?: (_ambit_v1_Nack__Output | null);
  'request'?: "subscribe"|"ack"|"nack";
}
