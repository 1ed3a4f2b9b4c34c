/**
 * The DNS wire format at the edges of the proxy (RFC 1035 section 4.1), via
 * dns-packet: what a client sent (a query we can answer, one to refuse with
 * FORMERR/NOTIMP, or noise to drop), and the byte-level responses built
 * straight from the query's header and question so they work even for
 * questions dns-packet could not re-encode.
 */
import dnsPacket, { type DecodedPacket, type OptAnswer } from 'dns-packet';

export const HEADER_BYTES = 12;

const QR = 0x8000;
const OPCODE_MASK = 0x7800;
const RD = 0x0100;
const RA = 0x0080;
const TC = 0x0200;

export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type RcodeValue = (typeof Rcode)[keyof typeof Rcode];

export interface DnsQuery {
  kind: 'query';
  id: number;
  /** As asked (case kept: some clients randomise it, RFC draft "0x20"). */
  name: string;
  /** 'A', 'AAAA', ..., or 'UNKNOWN_<n>'. */
  type: string;
  class: string;
  /** Recursion desired, copied into the response. */
  rd: boolean;
  /** The requestor's EDNS(0) UDP payload size (RFC 6891), when it sent an OPT record. */
  ednsUdpSize?: number;
  packet: DecodedPacket;
  /** The query as received, for forwarding unchanged. */
  raw: Buffer;
  /** End of the question section in raw. */
  questionEnd: number;
}

/** Answerable with an error rcode (FORMERR, NOTIMP) built from the header. */
export interface DnsRefusal {
  kind: 'refuse';
  rcode: RcodeValue;
  raw: Buffer;
  /** End of the question section, when there is exactly one parsable question. */
  questionEnd?: number;
  reason: string;
}

/** Not answered at all: too short to carry an id, or a response (answering one could loop). */
export interface DnsDrop {
  kind: 'drop';
  reason: string;
}

export type ParsedMessage = DnsQuery | DnsRefusal | DnsDrop;

/**
 * Offset just past the question at HEADER_BYTES (name, type, class), or
 * undefined when it runs off the message. A name is labels up to a zero
 * byte, or up to a compression pointer (RFC 1035 section 4.1.4).
 */
export function questionEndOf(raw: Buffer): number | undefined {
  let o = HEADER_BYTES;
  for (let labels = 0; labels < 128 && o < raw.length; labels++) {
    const len = raw[o];
    if (len === 0) return o + 5 <= raw.length ? o + 5 : undefined;
    if ((len & 0xc0) === 0xc0) return o + 6 <= raw.length ? o + 6 : undefined;
    if ((len & 0xc0) !== 0) return undefined;
    o += 1 + len;
  }
  return undefined;
}

export function parseQuery(raw: Buffer): ParsedMessage {
  if (raw.length < HEADER_BYTES) return { kind: 'drop', reason: `${raw.length} bytes is shorter than a DNS header` };
  const flags = raw.readUInt16BE(2);
  if (flags & QR) return { kind: 'drop', reason: 'a response, not a query' };
  const qdcount = raw.readUInt16BE(4);
  const oneQuestion = qdcount === 1 ? questionEndOf(raw) : undefined;
  const refuse = (rcode: RcodeValue, reason: string): DnsRefusal => ({ kind: 'refuse', rcode, raw, questionEnd: oneQuestion, reason });
  if ((flags & OPCODE_MASK) !== 0) return refuse(Rcode.NOTIMP, `opcode ${(flags & OPCODE_MASK) >> 11} is not QUERY`);
  if (qdcount !== 1) return refuse(Rcode.FORMERR, `${qdcount} questions; a query has exactly one`);
  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(raw);
  } catch (e) {
    return refuse(Rcode.FORMERR, `malformed message: ${(e as Error).message}`);
  }
  const q = packet.questions?.[0];
  if (!q || oneQuestion === undefined) return refuse(Rcode.FORMERR, 'malformed question');
  const opt = packet.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
  return {
    kind: 'query',
    id: raw.readUInt16BE(0),
    name: q.name,
    type: q.type,
    class: q.class ?? 'IN',
    rd: (flags & RD) !== 0,
    ednsUdpSize: opt ? opt.udpPayloadSize : undefined,
    packet,
    raw,
    questionEnd: oneQuestion,
  };
}

/**
 * A response carrying only a header and (when known) the question: for errors
 * (SERVFAIL, FORMERR, NOTIMP) and for truncation. Opcode, RD and CD come from
 * the query; RA is set because the proxy recurses through its upstream.
 */
export function headerOnlyResponse(raw: Buffer, rcode: RcodeValue, questionEnd?: number, truncated = false): Buffer {
  const q = questionEnd !== undefined ? raw.subarray(HEADER_BYTES, questionEnd) : Buffer.alloc(0);
  const out = Buffer.alloc(HEADER_BYTES + q.length);
  const qflags = raw.readUInt16BE(2);
  out.writeUInt16BE(raw.readUInt16BE(0), 0);
  out.writeUInt16BE(QR | (qflags & (OPCODE_MASK | RD | 0x0010)) | RA | (truncated ? TC : 0) | rcode, 2);
  out.writeUInt16BE(q.length > 0 ? 1 : 0, 4);
  q.copy(out, HEADER_BYTES);
  return out;
}

export function responseRcode(raw: Buffer): number {
  return raw.length >= 4 ? raw.readUInt16BE(2) & 0xf : -1;
}

export function isTruncated(raw: Buffer): boolean {
  return raw.length >= 4 && (raw.readUInt16BE(2) & TC) !== 0;
}

/** The response's id set to `id` (in a copy). */
export function withId(raw: Buffer, id: number): Buffer {
  const out = Buffer.from(raw);
  out.writeUInt16BE(id, 0);
  return out;
}

/** ASCII case-insensitive equality of two question sections (RFC 4343: names compare case-insensitively). */
export function sameQuestion(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] >= 0x41 && a[i] <= 0x5a ? a[i] | 0x20 : a[i];
    const y = b[i] >= 0x41 && b[i] <= 0x5a ? b[i] | 0x20 : b[i];
    if (x !== y) return false;
  }
  return true;
}

/**
 * The biggest UDP response this query may get: 512 bytes without EDNS
 * (RFC 1035 section 4.2.1), else the requestor's advertised size, never below 512.
 */
export function udpLimit(ednsUdpSize: number | undefined): number {
  return ednsUdpSize === undefined ? 512 : Math.max(512, Math.min(ednsUdpSize, 65535));
}

/** A UDP response over `limit` becomes header + question with TC set: the client retries over TCP. */
export function fitUdp(response: Buffer, limit: number): Buffer {
  if (response.length <= limit) return response;
  return headerOnlyResponse(Buffer.from(response), responseRcode(response) as RcodeValue, questionEndOf(response), true);
}
