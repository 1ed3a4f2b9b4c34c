// Original file: proto/ambit/v1/destination.proto

import type { HttpCookie as _ambit_v1_HttpCookie, HttpCookie__Output as _ambit_v1_HttpCookie__Output } from '../../ambit/v1/HttpCookie';
import type { Long } from '@grpc/proto-loader';

export interface ConsistentHash {
  'httpHeaderName'?: (string);
  'httpCookie'?: (_ambit_v1_HttpCookie | null);
  'useSourceIp'?: (boolean);
  'httpQueryParameterName'?: (string);
  'ringHashMinimumRingSize'?: (number | string | Long);
  'maglevTableSize'?: (number | string | Long);
  'hashKey'?: "httpHeaderName"|"httpCookie"|"useSourceIp"|"httpQueryParameterName";
  /**
   * RING_HASH or MAGLEV.
   */
  'algorithm'?: "ringHashMinimumRingSize"|"maglevTableSize";
}

export interface ConsistentHash__Output {
  'httpHeaderName'?: (string);
  'httpCookie'?: (_ambit_v1_HttpCookie__Output | null);
  'useSourceIp'?: (boolean);
  'httpQueryParameterName'?: (string);
  'ringHashMinimumRingSize'?: (number);
  'maglevTableSize'?: (number);
  'hashKey'?: "httpHeaderName"|"httpCookie"|"useSourceIp"|"httpQueryParameterName";
  /**
   * RING_HASH or MAGLEV.
   */
  'algorithm'?: "ringHashMinimumRingSize"|"maglevTableSize";
}
