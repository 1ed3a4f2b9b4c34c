/**
 * A small real DNS server for the DNS proxy's tests: UDP and TCP on the same
 * loopback port, answering A/AAAA from a record table (NXDOMAIN otherwise),
 * recording every query. Knobs make it misbehave the way upstreams do: drop
 * the first N UDP queries, stay silent, answer another question.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer } from 'dns-packet';
import { FrameReader, frame } from '../../agent/dns/tcp-framing';

export interface SeenQuery {
  id: number;
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
}

export interface TestResolverBehaviour {
  /** UDP queries to ignore before answering (retry tests). */
  dropFirstUdp: number;
  /** Never answer. */
  silent: boolean;
  /** Answer with a question other than the one asked (spoofing tests). */
  wrongQuestion: boolean;
}

export class TestResolver {
  readonly seen: SeenQuery[] = [];
  readonly behaviour: TestResolverBehaviour = { dropFirstUdp: 0, silent: false, wrongQuestion: false };
  private readonly conns = new Set<net.Socket>();

  private constructor(
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    readonly address: string,
    readonly port: number,
    private readonly records: Map<string, string[]>,
  ) {}

  /** Starts on `address` (default 127.0.0.1), a free port shared by UDP and TCP. */
  static async start(records: Record<string, string[]>, address = '127.0.0.1'): Promise<TestResolver> {
    const table = new Map(Object.entries(records).map(([k, v]) => [k.toLowerCase(), v]));
    const type = net.isIP(address) === 6 ? 'udp6' : 'udp4';
    // The TCP port is picked first; UDP then binds the same number (retry on the rare clash).
    for (let tries = 0; ; tries++) {
      const tcp = net.createServer();
      await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(0, address, resolve));
      const port = (tcp.address() as net.AddressInfo).port;
      const udp = dgram.createSocket(type);
      try {
        await new Promise<void>((resolve, reject) => udp.once('error', reject).bind(port, address, resolve));
      } catch (e) {
        udp.close();
        await new Promise((r) => tcp.close(r));
        if (tries < 10) continue;
        throw e;
      }
      const r = new TestResolver(udp, tcp, address, port, table);
      r.serve();
      return r;
    }
  }

  answer(query: Buffer, transport: 'udp' | 'tcp'): Buffer | null {
    let q;
    try {
      q = dnsPacket.decode(query);
    } catch {
      return null;
    }
    const question = q.questions?.[0];
    if (!question) return null;
    this.seen.push({ id: q.id ?? 0, name: question.name, type: question.type, transport });
    if (this.behaviour.silent) return null;
    if (transport === 'udp' && this.behaviour.dropFirstUdp > 0) {
      this.behaviour.dropFirstUdp--;
      return null;
    }
    const ips = this.records.get(question.name.toLowerCase());
    const want = question.type === 'AAAA' ? 6 : question.type === 'A' ? 4 : 0;
    const answers = (ips ?? [])
      .filter((ip) => net.isIP(ip) === want)
      .map((ip) => ({ type: question.type, name: question.name, ttl: 60, data: ip }) as Answer);
    return dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_AVAILABLE | ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | (ips ? 0 : 3),
      questions: [this.behaviour.wrongQuestion ? { ...question, name: `x${question.name}` } : question],
      answers,
    });
  }

  private serve(): void {
    this.udp.on('message', (msg, rinfo) => {
      const out = this.answer(msg, 'udp');
      if (out) this.udp.send(out, rinfo.port, rinfo.address);
    });
    this.tcp.on('connection', (sock) => {
      this.conns.add(sock);
      sock.on('close', () => this.conns.delete(sock));
      sock.on('error', () => sock.destroy());
      const reader = new FrameReader();
      sock.on('data', (chunk: Buffer) => {
        for (const msg of reader.push(chunk)) {
          const out = this.answer(msg, 'tcp');
          if (out) sock.write(frame(out));
        }
      });
    });
  }

  names(transport?: 'udp' | 'tcp'): string[] {
    return this.seen.filter((s) => !transport || s.transport === transport).map((s) => s.name);
  }

  private closed = false;

  /** Stop answering and free the port (queries to it then meet ICMP port unreachable / RST). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.conns) c.destroy();
    await Promise.all([
      new Promise<void>((r) => this.udp.close(() => r())),
      new Promise<void>((r) => this.tcp.close(() => r())),
    ]);
  }
}
