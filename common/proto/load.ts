/**
 * The ambit.v1 gRPC package, loaded once through proto-loader with PROTO_OPTIONS (the options the
 * generated types in ./generated were made with), typed with those generated types.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_FILES, PROTO_OPTIONS } from './options';
import type { ProtoGrpcType as ConfigProtoGrpcType } from './generated/config';
import type { ProtoGrpcType as CertificateProtoGrpcType } from './generated/certificate';
import type { ConfigServiceClient, ConfigServiceDefinition } from './generated/ambit/v1/ConfigService';
import type {
  CertificateServiceClient,
  CertificateServiceDefinition,
} from './generated/ambit/v1/CertificateService';

/** Both generated views of the one package: config.proto and certificate.proto share `ambit.v1`. */
export type AmbitProtoGrpcType = ConfigProtoGrpcType & CertificateProtoGrpcType;

/** gRPC method paths, for hand-written service definitions and logs. */
export const CONFIG_WATCH_PATH = '/ambit.v1.ConfigService/Watch';
export const CREATE_CERTIFICATE_PATH = '/ambit.v1.CertificateService/CreateCertificate';

let loaded: { definition: protoLoader.PackageDefinition; grpcType: AmbitProtoGrpcType } | undefined;

function load(): NonNullable<typeof loaded> {
  if (loaded === undefined) {
    // Parsing the .proto files takes tens of milliseconds: do it once per process.
    const definition = protoLoader.loadSync([...PROTO_FILES], PROTO_OPTIONS);
    const grpcType = grpc.loadPackageDefinition(definition) as unknown as AmbitProtoGrpcType;
    loaded = { definition, grpcType };
  }
  return loaded;
}

/** The raw proto-loader package definition (keys like "ambit.v1.ConfigService"). */
export function packageDefinition(): protoLoader.PackageDefinition {
  return load().definition;
}

/** The typed gRPC view: constructors, service definitions, message type definitions. */
export function ambitProto(): AmbitProtoGrpcType {
  return load().grpcType;
}

export function configServiceDefinition(): ConfigServiceDefinition {
  return ambitProto().ambit.v1.ConfigService.service;
}

export function certificateServiceDefinition(): CertificateServiceDefinition {
  return ambitProto().ambit.v1.CertificateService.service;
}

/** The generated client class of ConfigService (grpc.Client subclass). */
export function configServiceClientConstructor(): AmbitProtoGrpcType['ambit']['v1']['ConfigService'] {
  return ambitProto().ambit.v1.ConfigService;
}

/** The generated client class of CertificateService. */
export function certificateServiceClientConstructor(): AmbitProtoGrpcType['ambit']['v1']['CertificateService'] {
  return ambitProto().ambit.v1.CertificateService;
}

export function createConfigServiceClient(
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
): ConfigServiceClient {
  return new (configServiceClientConstructor())(address, credentials, options);
}

export function createCertificateServiceClient(
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
): CertificateServiceClient {
  return new (certificateServiceClientConstructor())(address, credentials, options);
}
