// Original file: proto/ambit/v1/certificate.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateCertificateRequest as _ambit_v1_CreateCertificateRequest, CreateCertificateRequest__Output as _ambit_v1_CreateCertificateRequest__Output } from '../../ambit/v1/CreateCertificateRequest';
import type { CreateCertificateResponse as _ambit_v1_CreateCertificateResponse, CreateCertificateResponse__Output as _ambit_v1_CreateCertificateResponse__Output } from '../../ambit/v1/CreateCertificateResponse';

export interface CertificateServiceClient extends grpc.Client {
  CreateCertificate(argument: _ambit_v1_CreateCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ambit_v1_CreateCertificateResponse__Output>): grpc.ClientUnaryCall;
  CreateCertificate(argument: _ambit_v1_CreateCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ambit_v1_CreateCertificateResponse__Output>): grpc.ClientUnaryCall;
  CreateCertificate(argument: _ambit_v1_CreateCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ambit_v1_CreateCertificateResponse__Output>): grpc.ClientUnaryCall;
  CreateCertificate(argument: _ambit_v1_CreateCertificateRequest, callback: grpc.requestCallback<_ambit_v1_CreateCertificateResponse__Output>): grpc.ClientUnaryCall;
  createCertificate(argument: _ambit_v1_CreateCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ambit_v1_CreateCertificateResponse__Output>): grpc.ClientUnaryCall;
  createCertificate(argument: _ambit_v1_CreateCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ambit_v1_CreateCertificateResponse__Output>): grpc.ClientUnaryCall;
  createCertificate(argument: _ambit_v1_CreateCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ambit_v1_CreateCertificateResponse__Output>): grpc.ClientUnaryCall;
  createCertificate(argument: _ambit_v1_CreateCertificateRequest, callback: grpc.requestCallback<_ambit_v1_CreateCertificateResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface CertificateServiceHandlers extends grpc.UntypedServiceImplementation {
  CreateCertificate: grpc.handleUnaryCall<_ambit_v1_CreateCertificateRequest__Output, _ambit_v1_CreateCertificateResponse>;
  
}

export interface CertificateServiceDefinition extends grpc.ServiceDefinition {
  CreateCertificate: MethodDefinition<_ambit_v1_CreateCertificateRequest, _ambit_v1_CreateCertificateResponse, _ambit_v1_CreateCertificateRequest__Output, _ambit_v1_CreateCertificateResponse__Output>
}
