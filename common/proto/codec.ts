/**
 * protobufjs encode of Resource and WatchResponse; decode to the objects proto-loader produces
 * with PROTO_OPTIONS (through the faster generated decoder of ./fast-decode), with what the
 * server's compact wire form left out filled back in (./wire-form); and hand assembly of
 * WatchResponse bytes from pre-encoded Resources.
 *
 * Why hand assembly: a snapshot is ~12k resources sent to ~100 subscribers. A repeated message
 * field on the wire is just, per element, tag + varint length + the element's bytes, so a
 * response can be built by concatenating Resources encoded once per revision instead of
 * re-encoding every object for every subscriber.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as protobuf from 'protobufjs';
import { compileDecoder, Decoder } from './fast-decode';
import { PROTO_FILES, PROTO_OPTIONS } from './options';
import { fromWire, toWire } from './wire-form';
import type { Resource, Resource__Output } from './generated/ambit/v1/Resource';
import type { ResourceKey, ResourceKey__Output } from './generated/ambit/v1/ResourceKey';
import type { WatchResponse, WatchResponse__Output } from './generated/ambit/v1/WatchResponse';

interface Types {
  resource: protobuf.Type;
  resourceKey: protobuf.Type;
  watchResponse: protobuf.Type;
  fields: { version: number; snapshot: number; added: number; updated: number; removed: number };
  decode: {
    resource: Decoder<Resource__Output>;
    resourceKey: Decoder<ResourceKey__Output>;
    watchResponse: Decoder<WatchResponse__Output>;
  };
}

let types: Types | undefined;

/** Loads the .proto files the way proto-loader does: same include dirs, same field naming. */
function loadTypes(): Types {
  if (types !== undefined) return types;
  const root = new protobuf.Root();
  const includeDirs = PROTO_OPTIONS.includeDirs ?? [];
  root.resolvePath = (origin, target) => {
    if (path.isAbsolute(target)) return target;
    for (const dir of includeDirs) {
      const full = path.join(dir, target);
      if (fs.existsSync(full)) return full;
    }
    return protobuf.util.path.resolve(origin, target);
  };
  root.loadSync([...PROTO_FILES], { keepCase: PROTO_OPTIONS.keepCase ?? false });
  root.resolveAll();
  const watchResponse = root.lookupType('ambit.v1.WatchResponse');
  // Field numbers come from the schema so the hand assembly cannot drift from the .proto.
  const id = (name: string): number => {
    const f = watchResponse.fields[name];
    if (f === undefined) throw new Error(`ambit.v1.WatchResponse has no field ${name}; regenerate the codec`);
    return f.id;
  };
  const resource = root.lookupType('ambit.v1.Resource');
  const resourceKey = root.lookupType('ambit.v1.ResourceKey');
  types = {
    resource,
    resourceKey,
    watchResponse,
    fields: { version: id('version'), snapshot: id('snapshot'), added: id('added'), updated: id('updated'), removed: id('removed') },
    decode: {
      resource: compileDecoder(resource),
      resourceKey: compileDecoder(resourceKey),
      watchResponse: compileDecoder(watchResponse),
    },
  };
  return types;
}

/** What proto-loader's deserializer (protobufjs toObject with these options) would produce. */
export const CONVERSION: protobuf.IConversionOptions = {
  longs: PROTO_OPTIONS.longs,
  enums: PROTO_OPTIONS.enums,
  bytes: PROTO_OPTIONS.bytes,
  defaults: PROTO_OPTIONS.defaults,
  arrays: PROTO_OPTIONS.arrays,
  objects: PROTO_OPTIONS.objects,
  oneofs: PROTO_OPTIONS.oneofs,
  json: PROTO_OPTIONS.json,
};

function encodeWith(type: protobuf.Type, value: object): Buffer {
  const bytes = type.encode(type.fromObject(value)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeResource(resource: Readonly<Resource>): Buffer {
  return encodeWith(loadTypes().resource, resource);
}

/** `resource` in the compact form the server puts on the wire (see ./wire-form). */
export function wireResource(resource: Readonly<Resource>): Readonly<Resource> {
  return toWire(resource);
}

export function decodeResource(bytes: Uint8Array): Resource__Output {
  return fromWire(loadTypes().decode.resource(bytes));
}

export function encodeResourceKey(key: Readonly<ResourceKey>): Buffer {
  return encodeWith(loadTypes().resourceKey, key);
}

export function decodeResourceKey(bytes: Uint8Array): ResourceKey__Output {
  return loadTypes().decode.resourceKey(bytes);
}

/** The ordinary (object -> bytes) path; used for small messages and as the reference in tests. */
export function encodeWatchResponse(response: Readonly<WatchResponse>): Buffer {
  return encodeWith(loadTypes().watchResponse, response);
}

/** What a client hands its consumer: every Resource complete (key, uids), whatever the wire left out. */
export function decodeWatchResponse(bytes: Uint8Array): WatchResponse__Output {
  const response = loadTypes().decode.watchResponse(bytes);
  for (const r of response.added) fromWire(r);
  for (const r of response.updated) fromWire(r);
  return response;
}

/** protobufjs decode + toObject (no fromWire): the reference the generated decoder is tested against. */
export function decodeWatchResponseReference(bytes: Uint8Array): WatchResponse__Output {
  const t = loadTypes().watchResponse;
  return t.toObject(t.decode(bytes), CONVERSION) as WatchResponse__Output;
}

// --- wire-format assembly -------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** The bytes of a repeated message field: tag + length + element for each element, in order. */
export function frameRepeated(fieldNumber: number, elements: readonly Uint8Array[]): Buffer {
  const tag = (fieldNumber << 3) | WIRE_LENGTH_DELIMITED;
  const tagSize = varintSize(tag);
  let size = 0;
  for (const e of elements) size += tagSize + varintSize(e.length) + e.length;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const e of elements) {
    pos = writeVarint(out, pos, tag);
    pos = writeVarint(out, pos, e.length);
    out.set(e, pos);
    pos += e.length;
  }
  return out;
}

/** WatchResponse field numbers, for callers that frame sections themselves. */
export function watchResponseFields(): Types['fields'] {
  return loadTypes().fields;
}

/**
 * A WatchResponse from its scalar fields and already-framed repeated sections (frameRepeated
 * output). Proto3 defaults (empty version, snapshot=false) are omitted, as an encoder would.
 */
export function assembleWatchResponse(version: string, snapshot: boolean, sections: readonly Uint8Array[]): Buffer {
  const f = loadTypes().fields;
  const versionBytes = Buffer.from(version, 'utf8');
  const versionTag = (f.version << 3) | WIRE_LENGTH_DELIMITED;
  const snapshotTag = (f.snapshot << 3) | WIRE_VARINT;
  let size = 0;
  if (versionBytes.length > 0) size += varintSize(versionTag) + varintSize(versionBytes.length) + versionBytes.length;
  if (snapshot) size += varintSize(snapshotTag) + 1;
  for (const s of sections) size += s.length;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  if (versionBytes.length > 0) {
    pos = writeVarint(out, pos, versionTag);
    pos = writeVarint(out, pos, versionBytes.length);
    pos += versionBytes.copy(out, pos);
  }
  if (snapshot) {
    pos = writeVarint(out, pos, snapshotTag);
    out[pos++] = 1;
  }
  for (const s of sections) {
    out.set(s, pos);
    pos += s.length;
  }
  return out;
}

export interface PreEncodedWatchResponse {
  version: string;
  snapshot: boolean;
  /** encodeResource() outputs. */
  added?: readonly Uint8Array[];
  updated?: readonly Uint8Array[];
  /** encodeResourceKey() outputs. */
  removed?: readonly Uint8Array[];
}

/** A WatchResponse built by concatenation; decodes exactly like encodeWatchResponse's output. */
export function concatWatchResponse(parts: PreEncodedWatchResponse): Buffer {
  const f = loadTypes().fields;
  return assembleWatchResponse(parts.version, parts.snapshot, [
    frameRepeated(f.added, parts.added ?? []),
    frameRepeated(f.updated, parts.updated ?? []),
    frameRepeated(f.removed, parts.removed ?? []),
  ]);
}
