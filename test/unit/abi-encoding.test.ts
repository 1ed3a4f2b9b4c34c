// common/native/abi.ts: the bytes the agent writes into the eBPF maps, field by field.
// Offsets come from Layout (itself held to the C header by test/native/abi-layout.test.ts).
import os from 'node:os';
import {
  Abi,
  CounterNames,
  decodeOrigDst,
  decodePod,
  decodeU64,
  DefaultKnobs,
  encodeCidrKey,
  encodeFlowKey,
  encodeIpKey,
  encodeKnobs,
  encodeOrigDst,
  encodePod,
  encodePortKey,
  encodeU32,
  encodeU64,
  Layout,
  sumPerCpu,
} from '../../common/native/abi';
import { ipToBytes } from '../../common/net/ip';

const AF_INET = 2;
const AF_INET6 = 10;
// Numeric fields are in the host's byte order (eBPF runs in it); addresses in network order.
const LE = os.endianness() === 'LE';
const r16 = (b: Buffer, o: number) => (LE ? b.readUInt16LE(o) : b.readUInt16BE(o));
const r32 = (b: Buffer, o: number) => (LE ? b.readUInt32LE(o) : b.readUInt32BE(o));
const r64 = (b: Buffer, o: number) => (LE ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
const field = (struct: string, name: string) => Layout[struct].fields[name];
const slice = (b: Buffer, struct: string, name: string) => {
  const f = field(struct, name);
  return b.subarray(f.offset, f.offset + f.size);
};

describe('encoded sizes', () => {
  it.each<[string, () => Buffer]>([
    ['ambit_pod', () => encodePod({ podId: 1, flags: 7 })],
    ['ambit_ip_key', () => encodeIpKey('10.0.0.1')],
    ['ambit_ip_key', () => encodeIpKey('fd00::1')],
    ['ambit_port_key', () => encodePortKey(1, 80, Abi.AMBIT_DIR_OUTBOUND)],
    ['ambit_cidr_key', () => encodeCidrKey(1, '10.0.0.0/8')],
    ['ambit_cidr_key', () => encodeCidrKey(1, 'fd00::/8')],
    ['ambit_orig_dst', () => encodeOrigDst({ address: '10.0.0.1', port: 80, family: 4, podId: 1 })],
    ['ambit_flow_key', () => encodeFlowKey(1n, '127.0.0.1', 40000)],
    ['ambit_knobs', () => encodeKnobs(DefaultKnobs)],
  ])('%s is Layout[struct].size bytes', (struct, encode) => {
    expect(encode()).toHaveLength(Layout[struct].size);
  });

  it('every field lies inside its struct, without overlaps', () => {
    const problems: string[] = [];
    for (const [name, s] of Object.entries(Layout)) {
      const owner = new Array<string | undefined>(s.size);
      for (const [fname, f] of Object.entries(s.fields)) {
        if (f.offset + f.size > s.size) problems.push(`${name}.${fname} ends past ${s.size}`);
        for (let i = f.offset; i < f.offset + f.size; i++) {
          if (owner[i]) problems.push(`${name}.${fname} overlaps ${owner[i]} at byte ${i}`);
          owner[i] = fname;
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('scalars', () => {
  it('encodeU32/encodeU64/decodeU64 use host order', () => {
    expect(r32(encodeU32(0xdeadbeef), 0)).toBe(0xdeadbeef);
    expect(r64(encodeU64(0x0102030405060708n), 0)).toBe(0x0102030405060708n);
    expect(r64(encodeU64(42), 0)).toBe(42n);
    expect(decodeU64(encodeU64(2n ** 64n - 1n))).toBe(2n ** 64n - 1n);
    const two = Buffer.concat([encodeU64(1n), encodeU64(99n)]);
    expect(decodeU64(two, 8)).toBe(99n);
  });

  it('encodeU32 takes negative int32 as its unsigned bit pattern', () => {
    expect(r32(encodeU32(-1), 0)).toBe(0xffffffff);
  });
});

describe('ambit_pod', () => {
  it('places pod_id and flags and decodes back', () => {
    const flags = Abi.AMBIT_POD_F_CAPTURE_OUT | Abi.AMBIT_POD_F_BIND_GUARD;
    const b = encodePod({ podId: 16383, flags });
    expect(r32(b, field('ambit_pod', 'pod_id').offset)).toBe(16383);
    expect(r32(b, field('ambit_pod', 'flags').offset)).toBe(flags);
    expect(decodePod(b)).toEqual({ podId: 16383, flags });
  });
});

describe('ambit_port_key', () => {
  it('puts pod_id at 0, port at 4 (host order), direction at 6, zero pad', () => {
    const b = encodePortKey(0x01020304, 0x1f91, Abi.AMBIT_DIR_INBOUND);
    expect(field('ambit_port_key', 'port')).toEqual({ offset: 4, size: 2 });
    expect(field('ambit_port_key', 'direction')).toEqual({ offset: 6, size: 1 });
    expect(r32(b, 0)).toBe(0x01020304);
    expect(r16(b, 4)).toBe(0x1f91);
    expect(b[6]).toBe(Abi.AMBIT_DIR_INBOUND);
    expect(b[7]).toBe(0);
    // Distinct directions give distinct keys for the same pod and port.
    expect(encodePortKey(3, 53, Abi.AMBIT_DIR_OUTBOUND).equals(encodePortKey(3, 53, Abi.AMBIT_DIR_INBOUND))).toBe(false);
  });
});

describe('ambit_cidr_key', () => {
  it('counts pod_id in prefixlen: 32 + prefix128', () => {
    const v4 = encodeCidrKey(5, '10.1.0.0/16');
    expect(r32(v4, field('ambit_cidr_key', 'prefixlen').offset)).toBe(32 + 96 + 16);
    expect(r32(v4, field('ambit_cidr_key', 'pod_id').offset)).toBe(5);
    expect(slice(v4, 'ambit_cidr_key', 'addr').equals(ipToBytes('10.1.0.0'))).toBe(true);

    const v6 = encodeCidrKey(6, 'fd00:1::/32');
    expect(r32(v6, 0)).toBe(32 + 32);
    expect(r32(v6, 4)).toBe(6);
    expect(slice(v6, 'ambit_cidr_key', 'addr').equals(ipToBytes('fd00:1::'))).toBe(true);
  });

  it('stores the network address with host bits cleared', () => {
    const b = encodeCidrKey(1, '192.168.7.9/24');
    expect(slice(b, 'ambit_cidr_key', 'addr').equals(ipToBytes('192.168.7.0'))).toBe(true);
    expect(encodeCidrKey(1, '192.168.7.9/24').equals(encodeCidrKey(1, '192.168.7.0/24'))).toBe(true);
  });

  it('makes a bare address a full-length (32 + 128) host key', () => {
    expect(r32(encodeCidrKey(1, '10.0.0.1'), 0)).toBe(160);
    expect(r32(encodeCidrKey(1, '::1'), 0)).toBe(160);
  });

  it('refuses a bad CIDR', () => {
    expect(() => encodeCidrKey(1, '10.0.0.0/33')).toThrow(expect.objectContaining({ code: 'AMBIT_ERR_INVALID_ARGUMENT' }));
  });
});

describe('ambit_orig_dst', () => {
  it('places an IPv4 destination and round-trips it', () => {
    const v = { address: '10.96.0.10', port: 8080, family: 4 as const, podId: 42 };
    const b = encodeOrigDst(v);
    expect(slice(b, 'ambit_orig_dst', 'addr').equals(ipToBytes('10.96.0.10'))).toBe(true);
    expect(r16(b, field('ambit_orig_dst', 'port').offset)).toBe(8080);
    expect(r16(b, field('ambit_orig_dst', 'family').offset)).toBe(AF_INET);
    expect(r32(b, field('ambit_orig_dst', 'pod_id').offset)).toBe(42);
    expect(decodeOrigDst(b)).toEqual(v);
  });

  it('places an IPv6 destination and round-trips it', () => {
    const v = { address: 'fd00:a3b1:1::10', port: 443, family: 6 as const, podId: 7 };
    const b = encodeOrigDst(v);
    expect(r16(b, 18)).toBe(AF_INET6);
    expect(decodeOrigDst(b)).toEqual(v);
  });

  it('decodes a v4-mapped address the kernel recorded for an AF_INET6 socket as IPv4', () => {
    const b = encodeOrigDst({ address: '::ffff:10.0.0.1', port: 80, family: 6, podId: 1 });
    expect(r16(b, 18)).toBe(AF_INET6);
    expect(decodeOrigDst(b)).toEqual({ address: '10.0.0.1', port: 80, family: 4, podId: 1 });
  });

  it('decodes a value read out of a larger buffer (a subarray) correctly', () => {
    const v = { address: 'fd00::2', port: 65535, family: 6 as const, podId: 0xffffffff };
    const big = Buffer.concat([Buffer.alloc(8, 0xaa), encodeOrigDst(v)]);
    expect(decodeOrigDst(big.subarray(8))).toEqual(v);
  });
});

describe('ambit_flow_key', () => {
  it('puts the netns cookie at 0, the address at 8 and the port at 24, zero padding', () => {
    const cookie = 0x1122334455667788n;
    const b = encodeFlowKey(cookie, '127.0.0.1', 40001);
    expect(r64(b, field('ambit_flow_key', 'netns_cookie').offset)).toBe(cookie);
    expect(slice(b, 'ambit_flow_key', 'addr').equals(ipToBytes('127.0.0.1'))).toBe(true);
    expect(r16(b, field('ambit_flow_key', 'port').offset)).toBe(40001);
    expect(b.subarray(26).equals(Buffer.alloc(6))).toBe(true);

    const v6 = encodeFlowKey(1n, '::1', 1);
    expect(v6.subarray(8, 24).equals(ipToBytes('::1'))).toBe(true);
  });
});

describe('ambit_knobs', () => {
  it('encodes the default knobs: ports, mark, 127.0.0.6 in network order at 12, ::1 at 16', () => {
    const b = encodeKnobs(DefaultKnobs);
    expect(r16(b, field('ambit_knobs', 'outbound_port').offset)).toBe(15001);
    expect(r16(b, field('ambit_knobs', 'inbound_port').offset)).toBe(15006);
    expect(r16(b, field('ambit_knobs', 'hbone_port').offset)).toBe(15008);
    expect(r16(b, field('ambit_knobs', 'dns_port').offset)).toBe(15053);
    expect(r32(b, field('ambit_knobs', 'agent_mark').offset)).toBe(0x539);
    expect(field('ambit_knobs', 'agent_src_ip4').offset).toBe(12);
    expect([...b.subarray(12, 16)]).toEqual([127, 0, 0, 6]);
    expect(b.subarray(16, 32).equals(ipToBytes('::1'))).toBe(true);
  });

  it('encodes custom knobs', () => {
    const b = encodeKnobs({
      outboundPort: 1,
      inboundPort: 2,
      hbonePort: 3,
      dnsPort: 4,
      agentMark: 0xfffffffe,
      agentSourceIpv4: '10.20.30.40',
      agentSourceIpv6: 'fd00::6',
    });
    expect([r16(b, 0), r16(b, 2), r16(b, 4), r16(b, 6)]).toEqual([1, 2, 3, 4]);
    expect(r32(b, 8)).toBe(0xfffffffe);
    expect([...b.subarray(12, 16)]).toEqual([10, 20, 30, 40]);
    expect(b.subarray(16, 32).equals(ipToBytes('fd00::6'))).toBe(true);
    // ABI 2: dns_capture defaults to on when the caller leaves it out.
    expect(r32(b, field('ambit_knobs', 'dns_capture').offset)).toBe(1);
  });

  it('encodes dns_capture off only when asked', () => {
    expect(r32(encodeKnobs(DefaultKnobs), 32)).toBe(1);
    expect(r32(encodeKnobs({ ...DefaultKnobs, dnsCapture: false }), 32)).toBe(0);
  });
});

describe('sumPerCpu', () => {
  it('sums every CPU slot of a per-CPU u64 value', () => {
    const perCpu = Buffer.concat([encodeU64(1n), encodeU64(2n), encodeU64(40n), encodeU64(2n ** 40n)]);
    expect(sumPerCpu(perCpu)).toBe(43n + 2n ** 40n);
  });

  it('does not wrap at 2^64 per slot and is 0 for no slots', () => {
    const max = 2n ** 64n - 1n;
    expect(sumPerCpu(Buffer.concat([encodeU64(max), encodeU64(max)]))).toBe(2n * max);
    expect(sumPerCpu(Buffer.alloc(0))).toBe(0n);
  });
});

describe('counters', () => {
  it('names every counter below AMBIT_CNT_MAX exactly once', () => {
    const indices = Object.entries(Abi)
      .filter(([k]) => k.startsWith('AMBIT_CNT_') && k !== 'AMBIT_CNT_MAX')
      .map(([, v]) => v);
    expect(Object.keys(CounterNames).map(Number).sort((a, b) => a - b)).toEqual([...indices].sort((a, b) => a - b));
    expect(new Set(Object.values(CounterNames)).size).toBe(indices.length);
    for (const i of indices) expect(i).toBeLessThan(Abi.AMBIT_CNT_MAX);
  });
});
