// Original file: proto/ambit/v1/destination.proto


export interface TcpPool {
  'maxConnections'?: (number);
  'connectTimeoutMs'?: (number);
}

export interface TcpPool__Output {
  'maxConnections': (number);
  'connectTimeoutMs': (number);
}
