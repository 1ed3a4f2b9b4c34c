// The DNS proxy's message pipeline without sockets (agent/dns/dns-handler.ts and the wire
// helpers it uses): local A/AAAA answers, forwarding with the client's id, SERVFAIL, FORMERR,
// NOTIMP, drops, and UDP truncation. The upstream here is an in-memory resolver that answers
// from its own records, so every byte checked went through dns-packet on both sides.
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type RecordType } from 'dns-packet';
import { handleDnsMessage, type DnsHandlerContext, type DnsQueryEvent } from '../../agent/dns/dns-handler';
import { fitUdp, headerOnlyResponse, parseQuery, questionEndOf, Rcode, udpLimit } from '../../agent/dns/dns-message';
import { DnsError, DnsErrorCodes } from '../../agent/dns/errors';
import { ServiceDnsTable } from '../../agent/dns/service-dns-table';
import { FrameReader, frame } from '../../agent/dns/tcp-framing';
import { NoUpstream, type DnsForwarder, type DnsTransport } from '../../agent/dns/upstream-client';
import { formatResolvConf, parseResolvConf } from '../../agent/dns/resolv-conf';

/** An upstream resolver held in memory: answers A records it knows, NXDOMAIN otherwise. */
class MemoryResolver implements DnsForwarder {
  readonly seen: Array<{ id: number; transport: DnsTransport; name: string }> = [];
  constructor(private readonly records: Record<string, string[]>) {}
  async forward(query: Buffer, transport: DnsTransport): Promise<Buffer> {
    const q = dnsPacket.decode(query);
    const question = q.questions![0];
    this.seen.push({ id: q.id!, transport, name: question.name });
    const ips = this.records[question.name.toLowerCase()];
    return dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_AVAILABLE | (ips ? 0 : Rcode.NXDOMAIN),
      questions: [question],
      answers: (ips ?? []).map((ip) => ({ type: 'A', name: question.name, ttl: 300, data: ip }) as Answer),
    });
  }
}

class FailingResolver implements DnsForwarder {
  async forward(): Promise<Buffer> {
    throw new DnsError(DnsErrorCodes.UPSTREAM_TIMEOUT, 'no answer');
  }
}

const table = new ServiceDnsTable([
  { hostname: 'reviews.demo.svc.cluster.local', vips: ['10.96.0.10', 'fd00:96::10'] },
  { hostname: 'ratings.demo.svc.cluster.local', vips: ['10.96.0.11'] },
  { hostname: 'big.demo.svc.cluster.local', vips: Array.from({ length: 40 }, (_, i) => `10.96.2.${i + 1}`) },
]);

function ctx(forwarder: DnsForwarder, events: DnsQueryEvent[] = []): DnsHandlerContext {
  return { namespace: 'demo', pod: 'client', lookup: table, forwarder, hooks: { onQuery: (e) => events.push(e) } };
}

function query(name: string, type: RecordType = 'A', extra: Partial<Packet> = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 0x1234,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    ...extra,
  });
}

const edns = (size: number): Partial<Packet> => ({
  additionals: [{ type: 'OPT', name: '.', udpPayloadSize: size, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
});

async function ask(raw: Buffer, forwarder: DnsForwarder = new MemoryResolver({}), transport: DnsTransport = 'udp', events?: DnsQueryEvent[]) {
  const out = await handleDnsMessage(raw, transport, ctx(forwarder, events));
  return out === null ? null : { raw: out, packet: dnsPacket.decode(out) as DecodedPacket & { rcode: string } };
}

describe('local answers', () => {
  it('answers A for a Service hostname with its VIP: authoritative, TTL 30, same id and question', async () => {
    const r = (await ask(query('reviews.demo.svc.cluster.local')))!;
    expect(r.packet).toMatchObject({ id: 0x1234, type: 'response', rcode: 'NOERROR', flag_aa: true, flag_rd: true, flag_ra: true });
    expect(r.packet.questions).toEqual([{ name: 'reviews.demo.svc.cluster.local', type: 'A', class: 'IN' }]);
    expect(r.packet.answers).toEqual([expect.objectContaining({ type: 'A', name: 'reviews.demo.svc.cluster.local', ttl: 30, data: '10.96.0.10' })]);
  });

  it('answers AAAA with the IPv6 VIP', async () => {
    const r = (await ask(query('reviews.demo.svc.cluster.local', 'AAAA')))!;
    expect(r.packet.answers).toEqual([expect.objectContaining({ type: 'AAAA', ttl: 30, data: 'fd00:96::10' })]);
  });

  it('answers AAAA of a Service without an IPv6 VIP with NOERROR and no answers, not NXDOMAIN', async () => {
    const upstream = new MemoryResolver({});
    const r = (await ask(query('ratings.demo.svc.cluster.local', 'AAAA'), upstream))!;
    expect(r.packet).toMatchObject({ rcode: 'NOERROR', flag_aa: true });
    expect(r.packet.answers).toEqual([]);
    expect(upstream.seen).toEqual([]);
  });

  it('keeps the case the client asked in (0x20 randomisation)', async () => {
    const r = (await ask(query('ReViEwS.demo.SVC.cluster.local')))!;
    expect(r.packet.questions![0].name).toBe('ReViEwS.demo.SVC.cluster.local');
    expect(r.packet.answers![0]).toMatchObject({ name: 'ReViEwS.demo.SVC.cluster.local', data: '10.96.0.10' });
  });

  it('answers a search-list-qualified name with a CNAME to the Service and its A record', async () => {
    const r = (await ask(query('reviews.demo.demo.svc.cluster.local')))!;
    expect(r.packet.answers).toEqual([
      expect.objectContaining({ type: 'CNAME', name: 'reviews.demo.demo.svc.cluster.local', data: 'reviews.demo.svc.cluster.local', ttl: 30 }),
      expect.objectContaining({ type: 'A', name: 'reviews.demo.svc.cluster.local', data: '10.96.0.10', ttl: 30 }),
    ]);
  });

  it('answers EDNS with EDNS (RFC 6891)', async () => {
    const r = (await ask(query('reviews.demo.svc.cluster.local', 'A', edns(4096))))!;
    expect(r.packet.additionals).toEqual([expect.objectContaining({ type: 'OPT', udpPayloadSize: 1232 })]);
    const plain = (await ask(query('reviews.demo.svc.cluster.local')))!;
    expect(plain.packet.additionals).toEqual([]);
  });

  it('reports each query to the hook', async () => {
    const events: DnsQueryEvent[] = [];
    await ask(query('reviews.demo.svc.cluster.local'), new MemoryResolver({}), 'udp', events);
    expect(events).toEqual([
      expect.objectContaining({ namespace: 'demo', pod: 'client', transport: 'udp', name: 'reviews.demo.svc.cluster.local', type: 'A', outcome: 'local', rcode: 0, answers: 1 }),
    ]);
  });
});

describe('forwarding', () => {
  it('forwards unknown names, the query unchanged, and returns the upstream answer with the client id', async () => {
    const upstream = new MemoryResolver({ 'example.test': ['192.0.2.7'] });
    const events: DnsQueryEvent[] = [];
    const r = (await ask(query('example.test'), upstream, 'udp', events))!;
    expect(upstream.seen).toEqual([{ id: 0x1234, transport: 'udp', name: 'example.test' }]);
    expect(r.packet).toMatchObject({ id: 0x1234, rcode: 'NOERROR', flag_aa: false });
    expect(r.packet.answers).toEqual([expect.objectContaining({ type: 'A', data: '192.0.2.7', ttl: 300 })]);
    expect(events[0]).toMatchObject({ outcome: 'forwarded', rcode: 0, answers: 1 });
  });

  it('forwards unknown names under cluster.local too (the cluster DNS knows pods and headless Services)', async () => {
    const upstream = new MemoryResolver({});
    const r = (await ask(query('nope.demo.svc.cluster.local'), upstream))!;
    expect(upstream.seen.map((s) => s.name)).toEqual(['nope.demo.svc.cluster.local']);
    expect(r.packet.rcode).toBe('NXDOMAIN');
  });

  it('forwards other record types of known names (SRV, TXT, ...)', async () => {
    const upstream = new MemoryResolver({});
    await ask(query('reviews.demo.svc.cluster.local', 'SRV'), upstream);
    await ask(query('reviews.demo.svc.cluster.local', 'TXT'), upstream);
    expect(upstream.seen.map((s) => s.name)).toEqual(['reviews.demo.svc.cluster.local', 'reviews.demo.svc.cluster.local']);
  });

  it('forwards TCP queries over TCP', async () => {
    const upstream = new MemoryResolver({ 'example.test': ['192.0.2.7'] });
    await ask(query('example.test'), upstream, 'tcp');
    expect(upstream.seen[0].transport).toBe('tcp');
  });

  it('answers SERVFAIL at once without an upstream (noUpstream), local names still answered', async () => {
    const events: DnsQueryEvent[] = [];
    const r = (await ask(query('example.test'), new NoUpstream(), 'udp', events))!;
    expect(r.packet).toMatchObject({ id: 0x1234, rcode: 'SERVFAIL' });
    expect(events[0]).toMatchObject({ outcome: 'servfail', error: DnsErrorCodes.UPSTREAM_UNREACHABLE });
    expect((await ask(query('reviews.demo.svc.cluster.local'), new NoUpstream()))!.packet.rcode).toBe('NOERROR');
  });

  it('answers SERVFAIL, with the question and id, when the upstream fails', async () => {
    const events: DnsQueryEvent[] = [];
    const r = (await ask(query('example.test', 'A', edns(1232)), new FailingResolver(), 'udp', events))!;
    expect(r.packet).toMatchObject({ id: 0x1234, rcode: 'SERVFAIL', flag_rd: true, flag_ra: true });
    expect(r.packet.questions).toEqual([{ name: 'example.test', type: 'A', class: 'IN' }]);
    expect(events[0]).toMatchObject({ outcome: 'servfail', rcode: 2, error: DnsErrorCodes.UPSTREAM_TIMEOUT });
  });
});

describe('bad input', () => {
  it('drops messages shorter than a header, and responses (answering them could loop)', async () => {
    expect(await ask(Buffer.from([1, 2, 3]))).toBeNull();
    expect(await ask(Buffer.alloc(0))).toBeNull();
    const response = dnsPacket.encode({ type: 'response', id: 9, questions: [{ name: 'a.test', type: 'A' }] });
    expect(await ask(response)).toBeNull();
  });

  it('answers FORMERR, echoing the id, to a query whose body does not parse', async () => {
    const raw = Buffer.concat([query('example.test').subarray(0, 12), Buffer.from([0x3f, 0x61])]);
    const r = (await ask(raw))!;
    expect(r.packet).toMatchObject({ id: 0x1234, rcode: 'FORMERR' });
    expect(r.packet.questions).toEqual([]);
  });

  it('answers FORMERR to a query with no question or with two', async () => {
    const none = dnsPacket.encode({ type: 'query', id: 7, questions: [] });
    expect((await ask(none))!.packet).toMatchObject({ id: 7, rcode: 'FORMERR' });
    const two = dnsPacket.encode({ type: 'query', id: 8, questions: [{ name: 'a.test', type: 'A' }, { name: 'b.test', type: 'A' }] });
    expect((await ask(two))!.packet).toMatchObject({ id: 8, rcode: 'FORMERR' });
  });

  it('answers NOTIMP to opcodes other than QUERY', async () => {
    const raw = query('example.test');
    raw.writeUInt16BE(raw.readUInt16BE(2) | (2 << 11), 2); // STATUS
    const r = (await ask(raw))!;
    expect(r.packet).toMatchObject({ id: 0x1234, rcode: 'NOTIMP', opcode: 'STATUS' });
  });

  it('survives random bytes without throwing', async () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let i = 0; i < 500; i++) {
      const raw = Buffer.from(Array.from({ length: 12 + (i % 60) }, rnd));
      raw[2] &= 0x7f; // a query, so it is parsed rather than dropped at once
      const out = await handleDnsMessage(raw, 'udp', ctx(new FailingResolver()));
      if (out) expect(out.length).toBeGreaterThanOrEqual(12);
    }
  });
});

describe('UDP size limits', () => {
  it('is 512 bytes without EDNS and the advertised size (at least 512) with it', () => {
    expect(udpLimit(undefined)).toBe(512);
    expect(udpLimit(100)).toBe(512);
    expect(udpLimit(4096)).toBe(4096);
  });

  it('sets TC on a local answer over 512 bytes without EDNS, and sends it whole over TCP or with EDNS', async () => {
    const udp = (await ask(query('big.demo.svc.cluster.local')))!;
    expect(udp.raw.length).toBeLessThanOrEqual(512);
    expect(udp.packet).toMatchObject({ flag_tc: true, rcode: 'NOERROR' });
    expect(udp.packet.answers).toEqual([]);
    expect(udp.packet.questions).toEqual([{ name: 'big.demo.svc.cluster.local', type: 'A', class: 'IN' }]);
    const tcp = (await ask(query('big.demo.svc.cluster.local'), undefined, 'tcp'))!;
    expect(tcp.packet.flag_tc).toBe(false);
    expect(tcp.packet.answers).toHaveLength(40);
    const withEdns = (await ask(query('big.demo.svc.cluster.local', 'A', edns(1232))))!;
    expect(withEdns.packet.flag_tc).toBe(false);
    expect(withEdns.packet.answers).toHaveLength(40);
  });

  it('truncates a forwarded answer that exceeds what the client can take over UDP', async () => {
    const ips = Array.from({ length: 60 }, (_, i) => `192.0.2.${i + 1}`);
    const r = (await ask(query('many.example.test'), new MemoryResolver({ 'many.example.test': ips })))!;
    expect(r.packet).toMatchObject({ id: 0x1234, flag_tc: true });
    expect(r.raw.length).toBeLessThanOrEqual(512);
  });

  it('fitUdp leaves small responses alone', () => {
    const small = headerOnlyResponse(query('a.test'), Rcode.NOERROR, questionEndOf(query('a.test')));
    expect(fitUdp(small, 512)).toBe(small);
  });
});

describe('wire helpers', () => {
  it('parseQuery reads id, name, type, RD and the EDNS size', () => {
    const q = parseQuery(query('a.test', 'AAAA', edns(1400)));
    expect(q).toMatchObject({ kind: 'query', id: 0x1234, name: 'a.test', type: 'AAAA', class: 'IN', rd: true, ednsUdpSize: 1400 });
  });

  it('questionEndOf finds the end of the question and refuses a truncated one', () => {
    const raw = query('a.test');
    expect(questionEndOf(raw)).toBe(12 + 1 + 1 + 1 + 4 + 1 + 4);
    expect(questionEndOf(raw.subarray(0, raw.length - 1))).toBeUndefined();
  });

  it('frames TCP messages and reassembles them from arbitrary chunks', () => {
    const a = query('a.test');
    const b = query('b.example.test', 'AAAA');
    const stream = Buffer.concat([frame(a), frame(b)]);
    const reader = new FrameReader();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 5) got.push(...reader.push(stream.subarray(i, i + 5)));
    expect(got).toEqual([a, b]);
    expect(reader.pending).toBe(0);
  });

  it('parses and writes resolv.conf', () => {
    const c = parseResolvConf('# comment\nnameserver 198.19.0.10\nnameserver fe80::1%eth0\nnameserver bogus\nsearch a b\nsearch demo.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1\n');
    expect(c).toEqual({ nameservers: ['198.19.0.10', 'fe80::1%eth0'], search: ['demo.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], ndots: 5 });
    expect(parseResolvConf(formatResolvConf(c))).toEqual(c);
  });
});
