import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CertificateServiceClient as _ambit_v1_CertificateServiceClient, CertificateServiceDefinition as _ambit_v1_CertificateServiceDefinition } from './ambit/v1/CertificateService';
import type { CreateCertificateRequest as _ambit_v1_CreateCertificateRequest, CreateCertificateRequest__Output as _ambit_v1_CreateCertificateRequest__Output } from './ambit/v1/CreateCertificateRequest';
import type { CreateCertificateResponse as _ambit_v1_CreateCertificateResponse, CreateCertificateResponse__Output as _ambit_v1_CreateCertificateResponse__Output } from './ambit/v1/CreateCertificateResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  ambit: {
    v1: {
      CertificateService: SubtypeConstructor<typeof grpc.Client, _ambit_v1_CertificateServiceClient> & { service: _ambit_v1_CertificateServiceDefinition }
      CreateCertificateRequest: MessageTypeDefinition<_ambit_v1_CreateCertificateRequest, _ambit_v1_CreateCertificateRequest__Output>
      CreateCertificateResponse: MessageTypeDefinition<_ambit_v1_CreateCertificateResponse, _ambit_v1_CreateCertificateResponse__Output>
    }
  }
}

