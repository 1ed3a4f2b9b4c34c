/**
 * Answers the proxy gives itself for names it knows: A/AAAA records of the
 * Service VIPs, authoritative, TTL 30 s (ztunnel's DEFAULT_TTL_SECONDS). A
 * known name without an address of the asked family is NOERROR with no
 * answers ("NODATA", RFC 2308 section 2.2), never NXDOMAIN: the name exists.
 *
 * Written by hand rather than through dns-packet, which does not compress
 * names: every record points at the question name (or the CNAME target)
 * (RFC 1035 section 4.1.4), so ~30 VIPs still fit a 512-byte UDP answer.
 */
import net from 'node:net';
import { HEADER_BYTES, Rcode, type DnsQuery } from './dns-message';
import { ipToBytes } from '../../common/net/ip';
import type { NameMatch } from './search-names';

export const LOCAL_TTL_SECONDS = 30;
/** The EDNS UDP size the proxy advertises in its own answers (the DNS flag day 2020 value). */
export const PROXY_EDNS_UDP_SIZE = 1232;

const TYPE_A = 1;
const TYPE_CNAME = 5;
const TYPE_AAAA = 28;
const TYPE_OPT = 41;
const CLASS_IN = 1;
const QR = 0x8000;
const AA = 0x0400;
const RD = 0x0100;
const RA = 0x0080;
const CD = 0x0010;

/** True when the proxy answers this question itself (A or AAAA in class IN); other types go upstream. */
export function answersLocally(q: DnsQuery): boolean {
  return (q.type === 'A' || q.type === 'AAAA') && q.class === 'IN';
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
}

function pointer(offset: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(0xc000 | offset, 0);
  return b;
}

function record(owner: Buffer, type: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(CLASS_IN, 2);
  fixed.writeUInt32BE(LOCAL_TTL_SECONDS, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

export function localAnswer(q: DnsQuery, match: NameMatch): Buffer {
  const v4 = q.type === 'A';
  const addrs = (v4 ? match.addresses.v4 : match.addresses.v6).filter((ip) => net.isIP(ip) === (v4 ? 4 : 6));
  const question = q.raw.subarray(HEADER_BYTES, q.questionEnd);
  const parts: Buffer[] = [];
  let offset = HEADER_BYTES + question.length;
  // Owner of the address records: the question name (offset 12), or the CNAME target.
  let owner = pointer(HEADER_BYTES);
  if (match.cname && addrs.length > 0) {
    const target = encodeName(match.recordName);
    const rr = record(pointer(HEADER_BYTES), TYPE_CNAME, target);
    parts.push(rr);
    owner = pointer(offset + rr.length - target.length);
    offset += rr.length;
  }
  for (const ip of addrs) {
    const bytes = ipToBytes(ip);
    parts.push(record(owner, v4 ? TYPE_A : TYPE_AAAA, v4 ? bytes.subarray(12) : bytes));
  }
  const answers = parts.length;
  if (q.ednsUdpSize !== undefined) {
    // RFC 6891 section 7: answer EDNS with EDNS. Root owner, class = our UDP size, TTL 0 (no flags).
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(TYPE_OPT, 1);
    opt.writeUInt16BE(PROXY_EDNS_UDP_SIZE, 3);
    parts.push(opt);
  }
  const header = Buffer.alloc(HEADER_BYTES);
  const qflags = q.raw.readUInt16BE(2);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(QR | AA | (qflags & (RD | CD)) | RA | Rcode.NOERROR, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers, 6);
  header.writeUInt16BE(q.ednsUdpSize !== undefined ? 1 : 0, 10);
  return Buffer.concat([header, question, ...parts]);
}
