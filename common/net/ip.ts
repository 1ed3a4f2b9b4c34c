/**
 * IP addresses as 16 bytes, IPv4 in its v4-mapped form (::ffff:a.b.c.d): the
 * one shape the eBPF maps use for both families (see ambit_abi.h).
 */
import net from 'node:net';
import { AmbitError, ErrorCodes } from '../errors';

function invalid(addr: string, why: string): AmbitError {
  return new AmbitError(ErrorCodes.INVALID_ARGUMENT, `'${addr}' is not a valid IP address: ${why}`);
}

function v4Bytes(addr: string): number[] {
  return addr.split('.').map(Number);
}

/** 16 bytes for an IPv4 or IPv6 address string. */
export function ipToBytes(addr: string): Buffer {
  const family = net.isIP(addr);
  const out = Buffer.alloc(16);
  if (family === 4) {
    out[10] = 0xff;
    out[11] = 0xff;
    Buffer.from(v4Bytes(addr)).copy(out, 12);
    return out;
  }
  if (family !== 6) throw invalid(addr, 'expected IPv4 (a.b.c.d) or IPv6');
  // net.isIP has validated the syntax; expand groups, an embedded IPv4 tail and '::'.
  const groups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const b = v4Bytes(g);
          return [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
        });
  const text = addr.split('%')[0];
  const gap = text.indexOf('::');
  const head = groups(gap < 0 ? text : text.slice(0, gap));
  const tail = gap < 0 ? [] : groups(text.slice(gap + 2));
  const words = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

export function isV4Mapped(b: Buffer): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** The address string for 16 bytes: dotted IPv4 when v4-mapped, canonical IPv6 otherwise. */
export function bytesToIp(b: Buffer): string {
  if (b.length !== 16) throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `an address is 16 bytes, got ${b.length}`);
  if (isV4Mapped(b)) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const words = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  // RFC 5952: compress the longest run (>= 2) of zero words.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

export interface Cidr {
  /** Network address bytes (16, v4-mapped for IPv4). */
  bytes: Buffer;
  /** Prefix length over the 16-byte form (IPv4 /24 is 120). */
  prefix128: number;
  family: 4 | 6;
  text: string;
}

/** Parse '10.0.0.0/8', '2001:db8::/32' or a bare address (a host route). */
export function parseCidr(text: string): Cidr {
  const parts = text.split('/');
  if (parts.length > 2) throw invalid(text, 'a CIDR has one "/"');
  const [addr, len] = parts;
  if (addr.includes('%')) throw invalid(text, 'a CIDR has no zone (%iface)');
  const family = net.isIP(addr);
  if (family === 0) throw invalid(text, 'expected a CIDR like 10.0.0.0/8 or 2001:db8::/32');
  const max = family === 4 ? 32 : 128;
  const prefix = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (len !== undefined && !/^\d+$/.test(len))) {
    throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `'${text}': prefix length must be 0..${max}`);
  }
  const prefix128 = family === 4 ? 96 + prefix : prefix;
  const bytes = ipToBytes(addr);
  // Zero the host bits so equal networks encode equally.
  for (let bit = prefix128; bit < 128; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { bytes, prefix128, family: family as 4 | 6, text };
}
