// DnsUpstream (agent/dns/upstream-client.ts) against a real resolver on loopback: the client id
// is restored, retries and timeouts end in a typed error within the deadline, a closed port fails
// at once, answers to another question are ignored, TCP works. The marked variant goes through the
// addon's socket factory (UDP and TCP sockets with SO_MARK), as the agent runs it.
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { DnsUpstream, type DnsUpstreamOptions } from '../../agent/dns/upstream-client';
import { DnsErrorCodes } from '../../agent/dns/errors';
import { AGENT_SOCKET_MARK } from '../../common/ports';
import { TestResolver } from '../support/dns-test-resolver';

let resolver: TestResolver;
const clients: DnsUpstream[] = [];

beforeEach(async () => {
  resolver = await TestResolver.start({ 'example.test': ['192.0.2.7', '2001:db8::7'] });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await resolver.close();
});

function client(opts: Partial<DnsUpstreamOptions> = {}): DnsUpstream {
  const c = new DnsUpstream({ upstream: { address: resolver.address, port: resolver.port }, ...opts });
  clients.push(c);
  return c;
}

const query = (name: string, id = 0xbeef, type: 'A' | 'AAAA' = 'A') =>
  dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type }] });

/** A loopback port with nothing listening (TCP and, almost surely, UDP). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe.each([
  ['plain sockets', {}],
  ['marked sockets from the addon', { mark: AGENT_SOCKET_MARK }],
])('DnsUpstream over %s', (_label, extra) => {
  it('forwards over UDP under a fresh id and gives the answer back under the client id', async () => {
    const answer = dnsPacket.decode(await client(extra).forward(query('example.test'), 'udp'));
    expect(answer).toMatchObject({ id: 0xbeef, type: 'response' });
    expect(answer.answers).toEqual([expect.objectContaining({ type: 'A', data: '192.0.2.7' })]);
    expect(resolver.seen).toHaveLength(1);
    expect(resolver.seen[0]).toMatchObject({ name: 'example.test', transport: 'udp' });
  });

  it('forwards over TCP', async () => {
    const answer = dnsPacket.decode(await client(extra).forward(query('example.test', 7, 'AAAA'), 'tcp'));
    expect(answer).toMatchObject({ id: 7 });
    expect(answer.answers).toEqual([expect.objectContaining({ type: 'AAAA', data: '2001:db8::7' })]);
    expect(resolver.seen).toEqual([expect.objectContaining({ name: 'example.test', transport: 'tcp', id: 7 })]);
  });

  it('keeps 100 concurrent queries apart', async () => {
    const c = client(extra);
    const names = Array.from({ length: 100 }, (_, i) => (i % 2 ? 'example.test' : `n${i}.example.test`));
    const answers = await Promise.all(names.map((n, i) => c.forward(query(n, i), 'udp')));
    answers.forEach((a, i) => {
      const p = dnsPacket.decode(a);
      expect({ id: p.id, name: p.questions![0].name }).toEqual({ id: i, name: names[i] });
    });
    expect(new Set(resolver.seen.map((s) => s.id)).size).toBe(100);
  });
});

describe('DnsUpstream failures', () => {
  it('sends the query again after the attempt timeout', async () => {
    resolver.behaviour.dropFirstUdp = 1;
    const started = Date.now();
    const answer = dnsPacket.decode(await client({ attemptTimeoutMs: 200 }).forward(query('example.test'), 'udp'));
    expect(answer.id).toBe(0xbeef);
    expect(resolver.seen).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('gives up with UPSTREAM_TIMEOUT after every attempt, within attempts x timeout', async () => {
    resolver.behaviour.silent = true;
    const started = Date.now();
    await expect(client({ attemptTimeoutMs: 150, attempts: 3 }).forward(query('example.test'), 'udp')).rejects.toMatchObject({
      code: DnsErrorCodes.UPSTREAM_TIMEOUT,
    });
    const took = Date.now() - started;
    expect(resolver.seen).toHaveLength(3);
    expect(took).toBeGreaterThanOrEqual(440);
    expect(took).toBeLessThan(1500);
  });

  it('ignores an answer to another question (RFC 5452) and times out', async () => {
    resolver.behaviour.wrongQuestion = true;
    await expect(client({ attemptTimeoutMs: 100, attempts: 1 }).forward(query('example.test'), 'udp')).rejects.toMatchObject({
      code: DnsErrorCodes.UPSTREAM_TIMEOUT,
    });
  });

  it('fails at once with UPSTREAM_UNREACHABLE when nothing listens (ICMP port unreachable)', async () => {
    const port = await closedPort();
    const c = new DnsUpstream({ upstream: { address: '127.0.0.1', port }, attemptTimeoutMs: 5000 });
    clients.push(c);
    const started = Date.now();
    await expect(c.forward(query('example.test'), 'udp')).rejects.toMatchObject({ code: DnsErrorCodes.UPSTREAM_UNREACHABLE });
    await expect(c.forward(query('example.test'), 'tcp')).rejects.toMatchObject({ code: DnsErrorCodes.UPSTREAM_UNREACHABLE });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('times a silent TCP upstream out', async () => {
    resolver.behaviour.silent = true;
    await expect(client({ tcpTimeoutMs: 200 }).forward(query('example.test'), 'tcp')).rejects.toMatchObject({
      code: DnsErrorCodes.UPSTREAM_TIMEOUT,
    });
  });

  it('fails queries in flight with CLOSED on close(), and later ones too', async () => {
    resolver.behaviour.silent = true;
    const c = client({ attemptTimeoutMs: 5000 });
    const inFlight = c.forward(query('example.test'), 'udp');
    await new Promise((r) => setTimeout(r, 50));
    c.close();
    await expect(inFlight).rejects.toMatchObject({ code: DnsErrorCodes.CLOSED });
    await expect(c.forward(query('example.test'), 'udp')).rejects.toMatchObject({ code: DnsErrorCodes.CLOSED });
  });

  it('refuses a bad upstream address, port or timeout with INVALID_CONFIG', () => {
    for (const bad of [
      { upstream: { address: 'dns.example', port: 53 } },
      { upstream: { address: '127.0.0.1', port: 0 } },
      { upstream: { address: '127.0.0.1', port: 53 }, attemptTimeoutMs: 0 },
    ]) {
      expect(() => new DnsUpstream(bad)).toThrow(expect.objectContaining({ code: DnsErrorCodes.INVALID_CONFIG }));
    }
  });
});
