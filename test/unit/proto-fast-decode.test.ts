// common/proto/fast-decode.ts: the generated decoder must produce exactly what proto-loader's
// deserializer (protobufjs decode + toObject with PROTO_OPTIONS) produces, for every resource kind
// and for a whole synthetic mesh, and must refuse malformed input with a typed error.
import { isDeepStrictEqual } from 'node:util';
import * as protobuf from 'protobufjs';
import { decodeWatchResponse, decodeWatchResponseReference, encodeWatchResponse } from '../../common/proto/codec';
import { compileDecoder, ProtoDecodeError } from '../../common/proto/fast-decode';
import { fromWire } from '../../common/proto/wire-form';
import { configServiceDefinition } from '../../common/proto/load';
import { MeshModel } from '../../control-plane/model/mesh-model';
import { createClientFilter } from '../../control-plane/push/client-filter';
import { SnapshotCache } from '../../control-plane/push/resource-bytes';
import { parseSubscribe } from '../../control-plane/push/subscription';
import { VersionClock } from '../../control-plane/push/versions';
import { scaleObjects } from '../../bench/fixtures/scale-objects';

const viaGrpc = (b: Buffer): unknown => configServiceDefinition().Watch.responseDeserialize(b);

/** A schema of its own, for types and wire forms ambit.v1 does not use. */
const scratch = protobuf.parse(`
  syntax = "proto3";
  package t;
  enum Color { RED = 0; GREEN = 1; }
  message Inner { string s = 1; }
  message All {
    int32 i32 = 1; sint32 s32 = 2; uint32 u32 = 3; int64 i64 = 4; sint64 s64 = 5; uint64 u64 = 6;
    fixed32 f32 = 7; sfixed32 sf32 = 8; fixed64 f64 = 9; sfixed64 sf64 = 10; double d = 11; float f = 12;
    bool b = 13; string s = 14; bytes by = 15; Color c = 16; Inner inner = 17;
    repeated uint32 packed = 18; repeated Color colors = 19; repeated Inner inners = 20;
    map<string, Inner> byName = 21; map<uint32, Color> byPort = 22; map<bool, string> flags = 23;
    oneof pick { string text = 24; Inner nested = 25; }
  }
`).root;
scratch.resolveAll();
const All = scratch.lookupType('t.All');
const CONVERSION = { longs: Number, enums: String, defaults: true, arrays: true, oneofs: true };
const reference = (b: Uint8Array): unknown => All.toObject(All.decode(b), CONVERSION);
const fast = compileDecoder<Record<string, unknown>>(All);
const encode = (o: object): Buffer => Buffer.from(All.encode(All.fromObject(o)).finish());

describe('generated decoder', () => {
  it('matches protobufjs toObject for every scalar type, enums, maps, oneofs and packed fields', () => {
    const values = [
      {},
      {
        i32: -5, s32: -70000, u32: 4_000_000_000, i64: -1_700_000_000_123, s64: -3, u64: 2 ** 40 + 7,
        f32: 3_000_000_000, sf32: -2, f64: 2 ** 36, sf64: -(2 ** 35), d: 1.5, f: 0.25,
        b: true, s: 'héllo ✓ and a rather long string over forty characters', by: Buffer.from([1, 2, 3]), c: 'GREEN',
        inner: { s: 'x' }, packed: [1, 300, 70000], colors: ['GREEN', 'RED'], inners: [{ s: 'a' }, {}],
        byName: { a: { s: 'b' }, ['__proto__']: { s: 'p' } }, byPort: { 80: 'GREEN', 8080: 'RED' }, flags: { true: 'y' },
        text: 'chosen',
      },
      { nested: { s: 'inner' }, c: 7 },
    ];
    for (const v of values) {
      const bytes = encode(v);
      expect(fast(bytes)).toEqual(reference(bytes));
      expect(isDeepStrictEqual(JSON.parse(JSON.stringify(fast(bytes))), JSON.parse(JSON.stringify(reference(bytes))))).toBe(true);
    }
  });

  it('reads unpacked repeated scalars and skips unknown fields of every wire type', () => {
    // packed=[5] unpacked (tag 18, wire 0), then unknown fields 99 (varint, fixed64, bytes, fixed32, group).
    const unknown = Buffer.from([
      0x90, 0x01, 0x05,
      0x98, 0x06, 0x96, 0x01,
      0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8,
      0x9a, 0x06, 0x02, 0xaa, 0xbb,
      0x9d, 0x06, 1, 2, 3, 4,
      0x9b, 0x06, 0x08, 0x01, 0x9c, 0x06,
      0x72, 0x01, 0x7a,
    ]);
    expect(fast(unknown)).toEqual(reference(unknown));
    expect(fast(unknown)).toMatchObject({ packed: [5], s: 'z' });
  });

  it('refuses truncated input, overlong lengths and a known field with the wrong wire type', () => {
    // Fields encoded one by one: a cut between them is a shorter valid message, any other cut is
    // malformed (protobufjs itself accepts some of those, e.g. half a string).
    const fields = [encode({ u64: 2 ** 40 }), encode({ s: 'hello' }), encode({ inner: { s: 'x' } })];
    const good = Buffer.concat(fields);
    const boundaries = new Set(fields.map((_, i) => Buffer.concat(fields.slice(0, i + 1)).length));
    for (let cut = 1; cut < good.length; cut++) {
      const part = good.subarray(0, cut);
      if (boundaries.has(cut)) expect(fast(part)).toEqual(reference(part));
      else expect(() => fast(part)).toThrow(ProtoDecodeError);
    }
    expect(() => fast(Buffer.from([0x72, 0x05, 0x61]))).toThrow(/beyond the end/);
    expect(() => fast(Buffer.from([0x70, 0x01]))).toThrow(/field 14 of t.All has wire type 0/);
  });

  it('decodes every string the same as UTF-8, whatever the string cache holds', () => {
    const strings = Array.from({ length: 20000 }, (_, i) => (i % 7 === 0 ? `ü-${i}` : `s-${i % 3000}-${'x'.repeat(i % 30)}`));
    const bytes = encode({ inners: strings.map((s) => ({ s })) });
    expect((fast(bytes).inners as Array<{ s: string }>).map((x) => x.s)).toEqual(strings);
  });
});

describe('codec decode', () => {
  it('equals proto-loader for a whole synthetic mesh snapshot (12 resource shapes, 1,000 pods)', () => {
    const model = new MeshModel();
    model.sinkFor('test').apply({ upsert: scaleObjects({ pods: 1000, services: 100, policies: 100, nodes: 10, namespaces: 10 }), remove: [] });
    const store = model.resources;
    const filter = createClientFilter(parseSubscribe({ client: 'node', node: 'node-1', types: [], clientId: '', lastAcceptedVersion: '' }), store);
    const snap = new SnapshotCache(store, new VersionClock('t')).get(filter);
    const decoded = decodeWatchResponse(snap.bytes);
    // The reference sees the compact wire form as it is (no keys, pod uids left out); fromWire
    // completes it, and then the two decoders agree field for field.
    const ref = decodeWatchResponseReference(snap.bytes);
    expect(ref.added.every((r) => r.key === null && (r.workload == null || r.workload.uid === ''))).toBe(true);
    expect(ref.added.flatMap((r) => r.service?.endpoints ?? []).every((e) => e.workloadUid === '' && e.workloadName !== undefined)).toBe(true);
    ref.added.forEach(fromWire);
    expect(decoded).toEqual(ref);
    // And what the client ends up with is what the control plane serves.
    const served = [...store.all()].filter((r) => filter.visible(r));
    expect(decoded.added.map((r) => `${r.key!.type}:${r.key!.name}`)).toEqual(served.map((r) => r.id));
    expect(decoded.added.map((r) => r.workload?.uid)).toEqual(served.map((r) => r.resource.workload?.uid));
    expect(decoded.added.map((r) => r.service?.endpoints.map((e) => e.workloadUid))).toEqual(served.map((r) => r.resource.service?.endpoints?.map((e) => e.workloadUid)));
  });

  it('equals the gRPC path (proto-loader) when keys are on the wire', () => {
    const bytes = encodeWatchResponse({
      version: 'v-1',
      added: [{ key: { type: 'SERVICE', name: 'odd/name' }, service: { name: 'web', namespace: 'default', endpoints: [{ workloadUid: 'u', ports: { 80: 8080 } }] } }],
      removed: [{ type: 'WORKLOAD', name: 'gone' }],
    });
    expect(decodeWatchResponse(bytes)).toEqual(viaGrpc(bytes));
  });
});
