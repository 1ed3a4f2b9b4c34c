/**
 * The server-side definition of ConfigService.Watch. Requests are decoded by proto-loader as
 * usual; responses are WatchResponse bytes the push engine assembled itself (see
 * common/proto/codec.ts), so responseSerialize passes Buffers through untouched.
 */
import type * as grpc from '@grpc/grpc-js';
import { CONFIG_WATCH_PATH, configServiceDefinition } from '../../common/proto/load';
import type { WatchRequest, WatchRequest__Output } from '../../common/proto/generated/ambit/v1/WatchRequest';

export type WatchCall = grpc.ServerDuplexStream<WatchRequest__Output, Buffer>;

export interface WatchHandlers extends grpc.UntypedServiceImplementation {
  Watch: grpc.handleBidiStreamingCall<WatchRequest__Output, Buffer>;
}

function passThrough(value: Buffer): Buffer {
  if (!Buffer.isBuffer(value)) throw new TypeError('Watch responses must be pre-encoded WatchResponse bytes');
  return value;
}

let definition: grpc.ServiceDefinition<WatchHandlers> | undefined;

export function watchServerDefinition(): grpc.ServiceDefinition<WatchHandlers> {
  if (definition !== undefined) return definition;
  const generated = configServiceDefinition().Watch;
  if (generated.path !== CONFIG_WATCH_PATH) {
    throw new Error(`ConfigService.Watch path is ${generated.path}, expected ${CONFIG_WATCH_PATH}`);
  }
  const watch: grpc.MethodDefinition<WatchRequest, Buffer> = {
    path: CONFIG_WATCH_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: generated.requestSerialize,
    requestDeserialize: generated.requestDeserialize,
    responseSerialize: passThrough,
    // A client built from this definition would get the raw bytes, which is what the type says.
    responseDeserialize: (b: Buffer) => b,
    originalName: 'watch',
  };
  definition = { Watch: watch };
  return definition;
}
