/**
 * TypeScript view of native/bpf/include/ambit_abi.h: constants, struct
 * layouts, and encoders/decoders for map keys and values. The native test
 * tier checks every size and offset here against the addon's abiLayout(),
 * which the C compiler computes from the header itself.
 */
import net from 'node:net';
import os from 'node:os';
import { AmbitError, ErrorCodes } from '../errors';
import { Ports, AGENT_SOCKET_MARK, AGENT_SOURCE_IPV4, AGENT_SOURCE_IPV6 } from '../ports';
import { bytesToIp, ipToBytes, isV4Mapped, parseCidr } from '../net/ip';

export const Abi = {
  AMBIT_ABI_VERSION: 2,
  AMBIT_MAX_PODS: 16384,
  AMBIT_SLOT_INBOUND4: 0,
  AMBIT_SLOT_HBONE4: 1,
  AMBIT_SLOT_INBOUND6: 2,
  AMBIT_SLOT_HBONE6: 3,
  AMBIT_SLOTS_PER_POD: 4,
  AMBIT_POD_F_CAPTURE_OUT: 1 << 0,
  AMBIT_POD_F_CAPTURE_IN: 1 << 1,
  AMBIT_POD_F_BIND_GUARD: 1 << 2,
  AMBIT_DIR_OUTBOUND: 0,
  AMBIT_DIR_INBOUND: 1,
  AMBIT_CNT_OUT_CAPTURED: 0,
  AMBIT_CNT_OUT_BYPASS_PORT: 1,
  AMBIT_CNT_OUT_BYPASS_CIDR: 2,
  AMBIT_CNT_OUT_AGENT_SOCKET: 3,
  AMBIT_CNT_IN_STEERED: 4,
  AMBIT_CNT_IN_HBONE: 5,
  AMBIT_CNT_IN_BYPASS_PORT: 6,
  AMBIT_CNT_IN_NO_LISTENER: 7,
  AMBIT_CNT_BIND_DENIED: 8,
  AMBIT_CNT_ORIG_DST_RECORDED: 9,
  AMBIT_CNT_ORIG_DST_MISSED: 10,
  AMBIT_CNT_DNS_UDP_CAPTURED: 11,
  AMBIT_CNT_DNS_TCP_CAPTURED: 12,
  AMBIT_CNT_DNS_REPLY_REWRITTEN: 13,
  AMBIT_CNT_MAX: 16,
  AMBIT_MAX_DNS_SOCKETS: 65536,
  AMBIT_DNS_PORT: 53,
} as const;

/** Counter names, by index in the `stats` map. */
export const CounterNames: Record<number, string> = {
  [Abi.AMBIT_CNT_OUT_CAPTURED]: 'outbound_captured',
  [Abi.AMBIT_CNT_OUT_BYPASS_PORT]: 'outbound_bypass_port',
  [Abi.AMBIT_CNT_OUT_BYPASS_CIDR]: 'outbound_bypass_cidr',
  [Abi.AMBIT_CNT_OUT_AGENT_SOCKET]: 'outbound_agent_socket',
  [Abi.AMBIT_CNT_IN_STEERED]: 'inbound_steered',
  [Abi.AMBIT_CNT_IN_HBONE]: 'inbound_hbone',
  [Abi.AMBIT_CNT_IN_BYPASS_PORT]: 'inbound_bypass_port',
  [Abi.AMBIT_CNT_IN_NO_LISTENER]: 'inbound_no_listener',
  [Abi.AMBIT_CNT_BIND_DENIED]: 'bind_denied',
  [Abi.AMBIT_CNT_ORIG_DST_RECORDED]: 'orig_dst_recorded',
  [Abi.AMBIT_CNT_ORIG_DST_MISSED]: 'orig_dst_missed',
  [Abi.AMBIT_CNT_DNS_UDP_CAPTURED]: 'dns_udp_captured',
  [Abi.AMBIT_CNT_DNS_TCP_CAPTURED]: 'dns_tcp_captured',
  [Abi.AMBIT_CNT_DNS_REPLY_REWRITTEN]: 'dns_reply_rewritten',
};

type Field = { offset: number; size: number };
/** Sizes and offsets, as in the header (checked against the compiler by test/native). */
export const Layout: Record<string, { size: number; fields: Record<string, Field> }> = {
  ambit_pod: { size: 8, fields: { pod_id: { offset: 0, size: 4 }, flags: { offset: 4, size: 4 } } },
  ambit_ip_key: { size: 16, fields: { addr: { offset: 0, size: 16 } } },
  ambit_port_key: {
    size: 8,
    fields: { pod_id: { offset: 0, size: 4 }, port: { offset: 4, size: 2 }, direction: { offset: 6, size: 1 } },
  },
  ambit_cidr_key: {
    size: 24,
    fields: { prefixlen: { offset: 0, size: 4 }, pod_id: { offset: 4, size: 4 }, addr: { offset: 8, size: 16 } },
  },
  ambit_orig_dst: {
    size: 24,
    fields: {
      addr: { offset: 0, size: 16 },
      port: { offset: 16, size: 2 },
      family: { offset: 18, size: 2 },
      pod_id: { offset: 20, size: 4 },
    },
  },
  ambit_flow_key: {
    size: 32,
    fields: { netns_cookie: { offset: 0, size: 8 }, addr: { offset: 8, size: 16 }, port: { offset: 24, size: 2 } },
  },
  ambit_knobs: {
    size: 36,
    fields: {
      outbound_port: { offset: 0, size: 2 },
      inbound_port: { offset: 2, size: 2 },
      hbone_port: { offset: 4, size: 2 },
      dns_port: { offset: 6, size: 2 },
      agent_mark: { offset: 8, size: 4 },
      agent_src_ip4: { offset: 12, size: 4 },
      agent_src_ip6: { offset: 16, size: 16 },
      dns_capture: { offset: 32, size: 4 },
    },
  },
};

const AF_INET = 2;
const AF_INET6 = 10;
// eBPF runs in the host's byte order; numeric fields follow it (addresses are network order).
const LE = os.endianness() === 'LE';
const u16 = (b: Buffer, v: number, o: number) => (LE ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
const u32 = (b: Buffer, v: number, o: number) => (LE ? b.writeUInt32LE(v >>> 0, o) : b.writeUInt32BE(v >>> 0, o));
const r16 = (b: Buffer, o: number) => (LE ? b.readUInt16LE(o) : b.readUInt16BE(o));
const r32 = (b: Buffer, o: number) => (LE ? b.readUInt32LE(o) : b.readUInt32BE(o));

export function encodeU32(v: number): Buffer {
  const b = Buffer.alloc(4);
  u32(b, v, 0);
  return b;
}

export function encodeU64(v: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  if (LE) b.writeBigUInt64LE(BigInt(v));
  else b.writeBigUInt64BE(BigInt(v));
  return b;
}

export function decodeU64(b: Buffer, offset = 0): bigint {
  return LE ? b.readBigUInt64LE(offset) : b.readBigUInt64BE(offset);
}

export interface PodValue {
  podId: number;
  flags: number;
}

export function encodePod(v: PodValue): Buffer {
  const b = Buffer.alloc(Layout.ambit_pod.size);
  u32(b, v.podId, 0);
  u32(b, v.flags, 4);
  return b;
}

export function decodePod(b: Buffer): PodValue {
  return { podId: r32(b, 0), flags: r32(b, 4) };
}

export function encodeIpKey(addr: string): Buffer {
  return ipToBytes(addr);
}

export function encodePortKey(podId: number, port: number, direction: number): Buffer {
  const b = Buffer.alloc(Layout.ambit_port_key.size);
  u32(b, podId, 0);
  u16(b, port, 4);
  b[6] = direction;
  return b;
}

/** The pod id a `bypass_ports` key belongs to. */
export function podIdOfPortKey(b: Buffer): number {
  return r32(b, 0);
}

/** The pod id a `bypass_cidrs` key belongs to. */
export function podIdOfCidrKey(b: Buffer): number {
  return r32(b, 4);
}

/** LPM key: the prefix covers pod_id's 32 bits, then the address bits. */
export function encodeCidrKey(podId: number, cidr: string): Buffer {
  const c = parseCidr(cidr);
  const b = Buffer.alloc(Layout.ambit_cidr_key.size);
  u32(b, 32 + c.prefix128, 0);
  // pod_id is matched as bytes by the trie: any fixed byte order works, use the host's.
  u32(b, podId, 4);
  c.bytes.copy(b, 8);
  return b;
}

export interface OrigDst {
  address: string;
  port: number;
  family: 4 | 6;
  podId: number;
}

export function decodeOrigDst(b: Buffer): OrigDst {
  const addr = b.subarray(0, 16);
  const fam = r16(b, 18);
  return {
    address: bytesToIp(Buffer.from(addr)),
    port: r16(b, 16),
    family: fam === AF_INET6 && !isV4Mapped(addr) ? 6 : 4,
    podId: r32(b, 20),
  };
}

export function encodeOrigDst(v: OrigDst): Buffer {
  const b = Buffer.alloc(Layout.ambit_orig_dst.size);
  ipToBytes(v.address).copy(b, 0);
  u16(b, v.port, 16);
  u16(b, v.family === 6 ? AF_INET6 : AF_INET, 18);
  u32(b, v.podId, 20);
  return b;
}

export function encodeFlowKey(netnsCookie: bigint, address: string, port: number): Buffer {
  const b = Buffer.alloc(Layout.ambit_flow_key.size);
  if (LE) b.writeBigUInt64LE(netnsCookie, 0);
  else b.writeBigUInt64BE(netnsCookie, 0);
  ipToBytes(address).copy(b, 8);
  u16(b, port, 24);
  return b;
}

export interface Knobs {
  outboundPort: number;
  inboundPort: number;
  hbonePort: number;
  dnsPort: number;
  agentMark: number;
  agentSourceIpv4: string;
  agentSourceIpv6: string;
  /** Send enrolled pods' DNS (UDP/TCP port 53) to the DNS proxy on dnsPort; default true. */
  dnsCapture?: boolean;
}

export const DefaultKnobs: Readonly<Knobs> = Object.freeze({
  outboundPort: Ports.outbound,
  inboundPort: Ports.inbound,
  hbonePort: Ports.hbone,
  dnsPort: Ports.dns,
  agentMark: AGENT_SOCKET_MARK,
  agentSourceIpv4: AGENT_SOURCE_IPV4,
  agentSourceIpv6: AGENT_SOURCE_IPV6,
  dnsCapture: true,
});

export function encodeKnobs(k: Knobs): Buffer {
  if (net.isIP(k.agentSourceIpv4) !== 4 || net.isIP(k.agentSourceIpv6) !== 6) {
    throw new AmbitError(
      ErrorCodes.INVALID_ARGUMENT,
      `agent source addresses must be IPv4 and IPv6, got '${k.agentSourceIpv4}' and '${k.agentSourceIpv6}'`,
    );
  }
  const b = Buffer.alloc(Layout.ambit_knobs.size);
  u16(b, k.outboundPort, 0);
  u16(b, k.inboundPort, 2);
  u16(b, k.hbonePort, 4);
  u16(b, k.dnsPort, 6);
  u32(b, k.agentMark, 8);
  ipToBytes(k.agentSourceIpv4).copy(b, 12, 12, 16); // network order, as in the header
  ipToBytes(k.agentSourceIpv6).copy(b, 16);
  u32(b, k.dnsCapture === false ? 0 : 1, 32);
  return b;
}

/** Sum a per-CPU u64 value (lookup result of a PERCPU map). */
export function sumPerCpu(b: Buffer): bigint {
  let total = 0n;
  for (let o = 0; o + 8 <= b.length; o += 8) total += decodeU64(b, o);
  return total;
}
