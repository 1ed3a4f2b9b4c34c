// The one set of protobuf conversion options: the runtime loader and scripts/gen-proto.sh (which
// generates common/proto/generated/) must agree, or the generated types would lie.
import type { Options } from '@grpc/proto-loader';
import * as path from 'path';
import { projectRoot } from '../project-root';

export const PROTO_OPTIONS: Options = Object.freeze({
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: true,
  includeDirs: [path.join(projectRoot(), 'proto')],
});

/** The .proto files of the ambit.v1 API, relative to proto/. */
export const PROTO_FILES = ['ambit/v1/config.proto', 'ambit/v1/certificate.proto'] as const;
