// Original file: proto/ambit/v1/destination.proto


export interface HttpPool {
  'http1MaxPendingRequests'?: (number);
  'http2MaxRequests'?: (number);
  'maxRequestsPerConnection'?: (number);
  'maxRetries'?: (number);
  'idleTimeoutMs'?: (number);
}

export interface HttpPool__Output {
  'http1MaxPendingRequests': (number);
  'http2MaxRequests': (number);
  'maxRequestsPerConnection': (number);
  'maxRetries': (number);
  'idleTimeoutMs': (number);
}
