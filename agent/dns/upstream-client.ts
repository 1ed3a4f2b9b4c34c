/**
 * The DNS proxy's client of the upstream resolver (the cluster DNS, or the
 * node's resolver), shared by every pod on the node. Its sockets live in the
 * agent's own network namespace (or one it is given), never in a pod's, and
 * carry the agent's SO_MARK when asked.
 *
 * UDP: one connected socket, so an ICMP port-unreachable comes back as
 * ECONNREFUSED and fails the queries in flight at once instead of letting
 * them time out. Each query gets a fresh random id (the client's is restored
 * in the answer) and is retried once per attempt timeout; an answer must
 * carry the id and the question of the query or it is ignored.
 * TCP: one connection per query (TCP DNS is the rare fallback after TC).
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { Native } from '../../common/native/addon';
import { silentLogger, type Logger } from '../../common/log';
import { DnsError, DnsErrorCodes } from './errors';
import { HEADER_BYTES, questionEndOf, sameQuestion, withId } from './dns-message';
import { FrameReader, frame } from './tcp-framing';

export type DnsTransport = 'udp' | 'tcp';

/** What the proxy pipeline needs from an upstream: an answer to the query, or a DnsError. */
export interface DnsForwarder {
  forward(query: Buffer, transport: DnsTransport): Promise<Buffer>;
}

export interface UpstreamAddress {
  address: string;
  port: number;
}

export interface DnsUpstreamOptions {
  upstream: UpstreamAddress;
  /** Wait this long for a UDP answer before sending the query again. Default 1000 ms. */
  attemptTimeoutMs?: number;
  /** UDP sends per query, the first included. Default 2: SERVFAIL after ~2 s, before glibc's own 5 s timeout. */
  attempts?: number;
  /** Deadline of one TCP query, connect included. Default 3000 ms. */
  tcpTimeoutMs?: number;
  /** SO_MARK of the upstream sockets (needs CAP_NET_ADMIN), e.g. AGENT_SOCKET_MARK. */
  mark?: number;
  /** Create the upstream sockets in this network namespace instead of the agent's own. */
  netnsFd?: number;
  /** UDP queries in flight at most; beyond that new ones fail at once (SERVFAIL). Default 4096. */
  maxInFlight?: number;
  logger?: Logger;
}

interface Pending {
  clientId: number;
  query: Buffer;
  question: Buffer;
  attemptsLeft: number;
  timer: NodeJS.Timeout;
  resolve: (answer: Buffer) => void;
  reject: (e: DnsError) => void;
}

function checkOptions(o: DnsUpstreamOptions): void {
  const bad = (what: string) => new DnsError(DnsErrorCodes.INVALID_CONFIG, `DNS upstream: ${what}`);
  if (net.isIP(o.upstream.address) === 0) throw bad(`address '${o.upstream.address}' is not an IP address`);
  if (!Number.isInteger(o.upstream.port) || o.upstream.port < 1 || o.upstream.port > 65535) {
    throw bad(`port ${o.upstream.port} is not 1..65535`);
  }
  for (const [k, v] of Object.entries({ attemptTimeoutMs: o.attemptTimeoutMs, attempts: o.attempts, tcpTimeoutMs: o.tcpTimeoutMs })) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw bad(`${k} must be a positive integer, got ${v}`);
  }
}

export class DnsUpstream implements DnsForwarder {
  readonly upstream: Readonly<UpstreamAddress>;
  private readonly family: 4 | 6;
  private readonly attemptTimeoutMs: number;
  private readonly attempts: number;
  private readonly tcpTimeoutMs: number;
  private readonly maxInFlight: number;
  private readonly log: Logger;
  private udp?: Promise<dgram.Socket>;
  private readonly pending = new Map<number, Pending>();
  private readonly tcpSockets = new Set<net.Socket>();
  private closed = false;

  constructor(private readonly opts: DnsUpstreamOptions) {
    checkOptions(opts);
    this.upstream = Object.freeze({ ...opts.upstream });
    this.family = net.isIP(opts.upstream.address) === 6 ? 6 : 4;
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? 1000;
    this.attempts = opts.attempts ?? 2;
    this.tcpTimeoutMs = opts.tcpTimeoutMs ?? 3000;
    this.maxInFlight = opts.maxInFlight ?? 4096;
    this.log = (opts.logger ?? silentLogger).child({ component: 'dns-upstream' });
  }

  forward(query: Buffer, transport: DnsTransport): Promise<Buffer> {
    if (this.closed) return Promise.reject(new DnsError(DnsErrorCodes.CLOSED, 'the DNS upstream client is closed'));
    const qend = questionEndOf(query);
    if (qend === undefined) {
      return Promise.reject(new DnsError(DnsErrorCodes.UPSTREAM_BAD_RESPONSE, 'cannot forward a query without a question'));
    }
    const question = query.subarray(HEADER_BYTES, qend);
    return transport === 'udp' ? this.forwardUdp(query, question) : this.forwardTcp(query, question);
  }

  /** Fail everything in flight and release the sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new DnsError(DnsErrorCodes.CLOSED, 'the DNS upstream client was closed'));
    for (const s of this.tcpSockets) s.destroy();
    this.tcpSockets.clear();
    const udp = this.udp;
    this.udp = undefined;
    void udp?.then((s) => s.close()).catch(() => {});
  }

  private where(): string {
    const a = this.family === 6 ? `[${this.upstream.address}]` : this.upstream.address;
    return `${a}:${this.upstream.port}`;
  }

  private async openUdp(): Promise<dgram.Socket> {
    const type = this.family === 6 ? 'udp6' : 'udp4';
    let sock: dgram.Socket;
    if (this.opts.mark !== undefined || this.opts.netnsFd !== undefined) {
      const fd = await Native.createSocket({
        netnsFd: this.opts.netnsFd,
        family: this.family,
        type: 'udp',
        address: this.family === 6 ? '::' : '0.0.0.0',
        port: 0,
        mark: this.opts.mark,
      });
      sock = dgram.createSocket(type);
      await new Promise<void>((resolve, reject) => sock.once('error', reject).bind({ fd }, () => resolve()));
    } else {
      sock = dgram.createSocket(type);
    }
    sock.removeAllListeners('error');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(this.upstream.port, this.upstream.address, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.on('message', (msg) => this.onUdpAnswer(msg));
    sock.on('error', (e: NodeJS.ErrnoException) => this.onUdpError(sock, e));
    return sock;
  }

  private udpSocket(): Promise<dgram.Socket> {
    if (!this.udp) {
      const p = this.openUdp();
      this.udp = p;
      p.catch(() => {
        if (this.udp === p) this.udp = undefined; // try again on the next query
      });
    }
    return this.udp;
  }

  private newId(): number {
    for (;;) {
      const id = randomInt(0x10000);
      if (!this.pending.has(id)) return id;
    }
  }

  private async forwardUdp(query: Buffer, question: Buffer): Promise<Buffer> {
    if (this.pending.size >= this.maxInFlight) {
      throw new DnsError(DnsErrorCodes.UPSTREAM_TIMEOUT, `${this.pending.size} queries already wait on ${this.where()}`);
    }
    let sock: dgram.Socket;
    try {
      sock = await this.udpSocket();
    } catch (e) {
      throw new DnsError(DnsErrorCodes.UPSTREAM_UNREACHABLE, `cannot open a UDP socket to ${this.where()}: ${(e as Error).message}`, { cause: e });
    }
    const id = this.newId();
    const wire = withId(query, id);
    return new Promise<Buffer>((resolve, reject) => {
      const p: Pending = {
        clientId: query.readUInt16BE(0),
        query: wire,
        question,
        attemptsLeft: this.attempts,
        timer: undefined as unknown as NodeJS.Timeout,
        resolve,
        reject,
      };
      this.pending.set(id, p);
      const attempt = () => {
        if (this.pending.get(id) !== p) return;
        if (p.attemptsLeft-- === 0) {
          this.pending.delete(id);
          reject(
            new DnsError(
              DnsErrorCodes.UPSTREAM_TIMEOUT,
              `no answer from ${this.where()} after ${this.attempts} attempts of ${this.attemptTimeoutMs} ms`,
            ),
          );
          return;
        }
        sock.send(wire, (err) => {
          if (err && this.pending.get(id) === p) this.settle(id, err);
        });
        p.timer = setTimeout(attempt, this.attemptTimeoutMs);
      };
      attempt();
    });
  }

  private onUdpAnswer(msg: Buffer): void {
    if (msg.length < HEADER_BYTES || (msg.readUInt16BE(2) & 0x8000) === 0) return;
    const id = msg.readUInt16BE(0);
    const p = this.pending.get(id);
    if (!p) return; // late (after a retry was answered) or not ours
    const qend = questionEndOf(msg);
    // RFC 5452 section 9.1: accept an answer only for the question that was asked.
    if (qend === undefined || !sameQuestion(msg.subarray(HEADER_BYTES, qend), p.question)) {
      this.log.debug({ id }, 'ignoring an upstream answer for another question');
      return;
    }
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.resolve(withId(msg, p.clientId));
  }

  private settle(id: number, err: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.reject(this.toDnsError(err));
  }

  private toDnsError(err: Error): DnsError {
    if (err instanceof DnsError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    const refused = code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ECONNRESET';
    return new DnsError(
      refused ? DnsErrorCodes.UPSTREAM_UNREACHABLE : DnsErrorCodes.UPSTREAM_BAD_RESPONSE,
      `upstream resolver ${this.where()}: ${err.message}`,
      { cause: err },
    );
  }

  private failAll(e: DnsError): void {
    for (const [id, p] of [...this.pending]) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(e);
    }
  }

  private onUdpError(sock: dgram.Socket, e: NodeJS.ErrnoException): void {
    // On a connected socket an ICMP error is reported on the next receive and names no
    // query; it concerns the one upstream every pending query went to, so all fail now.
    this.log.debug({ err: e.message, code: e.code }, 'upstream UDP error');
    this.failAll(this.toDnsError(e));
    if (e.code !== 'ECONNREFUSED' && e.code !== 'EHOSTUNREACH' && e.code !== 'ENETUNREACH') {
      // Anything else: start over with a new socket on the next query.
      void this.udp?.then((s) => s === sock && (this.udp = undefined));
      sock.close();
    }
  }

  private async openTcp(): Promise<net.Socket> {
    if (this.opts.mark === undefined && this.opts.netnsFd === undefined) {
      return net.connect({ host: this.upstream.address, port: this.upstream.port });
    }
    const fd = await Native.createSocket({ netnsFd: this.opts.netnsFd, family: this.family, mark: this.opts.mark });
    return new net.Socket({ fd }).connect(this.upstream.port, this.upstream.address);
  }

  private async forwardTcp(query: Buffer, question: Buffer): Promise<Buffer> {
    let sock: net.Socket;
    try {
      sock = await this.openTcp();
    } catch (e) {
      throw new DnsError(DnsErrorCodes.UPSTREAM_UNREACHABLE, `cannot open a TCP socket to ${this.where()}: ${(e as Error).message}`, { cause: e });
    }
    this.tcpSockets.add(sock);
    return new Promise<Buffer>((resolve, reject) => {
      const reader = new FrameReader();
      let finished = false;
      const done = (err: Error | null, answer?: Buffer) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.tcpSockets.delete(sock);
        sock.destroy();
        if (err) reject(this.toDnsError(err));
        else resolve(answer!);
      };
      const timer = setTimeout(
        () => done(new DnsError(DnsErrorCodes.UPSTREAM_TIMEOUT, `no TCP answer from ${this.where()} within ${this.tcpTimeoutMs} ms`)),
        this.tcpTimeoutMs,
      );
      sock.on('error', (e) => done(e));
      sock.on('close', () => done(new DnsError(DnsErrorCodes.UPSTREAM_BAD_RESPONSE, `${this.where()} closed the TCP connection without an answer`)));
      sock.on('data', (chunk: Buffer) => {
        for (const msg of reader.push(chunk)) {
          const qend = questionEndOf(msg);
          const ok =
            msg.length >= HEADER_BYTES &&
            msg.readUInt16BE(0) === query.readUInt16BE(0) &&
            (msg.readUInt16BE(2) & 0x8000) !== 0 &&
            qend !== undefined &&
            sameQuestion(msg.subarray(HEADER_BYTES, qend), question);
          if (ok) return done(null, msg);
          return done(new DnsError(DnsErrorCodes.UPSTREAM_BAD_RESPONSE, `${this.where()} answered another query over TCP`));
        }
      });
      sock.write(frame(query));
    });
  }
}

/** The forwarder of a proxy configured without upstream: names outside the mesh get SERVFAIL at once. */
export class NoUpstream implements DnsForwarder {
  forward(): Promise<Buffer> {
    return Promise.reject(new DnsError(DnsErrorCodes.UPSTREAM_UNREACHABLE, 'no upstream resolver is configured'));
  }

  close(): void {}
}
