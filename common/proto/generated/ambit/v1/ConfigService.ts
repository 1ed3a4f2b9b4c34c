// Original file: proto/ambit/v1/config.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { WatchRequest as _ambit_v1_WatchRequest, WatchRequest__Output as _ambit_v1_WatchRequest__Output } from '../../ambit/v1/WatchRequest';
import type { WatchResponse as _ambit_v1_WatchResponse, WatchResponse__Output as _ambit_v1_WatchResponse__Output } from '../../ambit/v1/WatchResponse';

export interface ConfigServiceClient extends grpc.Client {
  Watch(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_ambit_v1_WatchRequest, _ambit_v1_WatchResponse__Output>;
  Watch(options?: grpc.CallOptions): grpc.ClientDuplexStream<_ambit_v1_WatchRequest, _ambit_v1_WatchResponse__Output>;
  watch(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_ambit_v1_WatchRequest, _ambit_v1_WatchResponse__Output>;
  watch(options?: grpc.CallOptions): grpc.ClientDuplexStream<_ambit_v1_WatchRequest, _ambit_v1_WatchResponse__Output>;
  
}

export interface ConfigServiceHandlers extends grpc.UntypedServiceImplementation {
  Watch: grpc.handleBidiStreamingCall<_ambit_v1_WatchRequest__Output, _ambit_v1_WatchResponse>;
  
}

export interface ConfigServiceDefinition extends grpc.ServiceDefinition {
  Watch: MethodDefinition<_ambit_v1_WatchRequest, _ambit_v1_WatchResponse, _ambit_v1_WatchRequest__Output, _ambit_v1_WatchResponse__Output>
}
