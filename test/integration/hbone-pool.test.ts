/**
 * The HBONE pool and the server's lifecycle over real mTLS on 127.0.0.1: connection reuse, the
 * stream limit (ours and the server's), shared handshakes, idle close, GOAWAY, certificate
 * rotation on the server, drain, several listeners, and the ways a connection attempt fails.
 */
import { X509Certificate } from 'node:crypto';
import type { ClientHttp2Stream } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { Diagnostics, TunnelCloseMessage, TunnelOpenMessage } from '../../common/diagnostics';
import { defaultDial, DialFn } from '../../common/hbone/connect';
import { HboneError, HboneErrorCodes } from '../../common/hbone/errors';
import { HbonePool, HbonePoolOptions, HboneTarget } from '../../common/hbone/pool';
import { createHboneServer, HboneServer, HboneServerOptions } from '../../common/hbone/server';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import { workloadClientTlsOptions } from '../../common/tls/options';
import { TestCa } from '../support/test-ca';
import { cleanupAfterEach, issueTestPair } from '../support/hbone-fixture';

let ca: TestCa;
let serverCert: WorkloadCertificate;
let clientCert: WorkloadCertificate;
const cleanups = cleanupAfterEach();

beforeAll(async () => {
  ({ ca, serverCert, clientCert } = await issueTestPair());
});


/** A server whose tunnels echo what they receive, ending when the client ends. */
async function echoServer(opts: Partial<HboneServerOptions> = {}): Promise<{ hbone: HboneServer; port: number }> {
  const hbone = createHboneServer({
    certificate: serverCert,
    onTunnel: (req) => {
      const stream = req.accept();
      stream.pipe(stream);
    },
    ...opts,
  });
  await hbone.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => hbone.close());
  return { hbone, port: hbone.address().port };
}

function pool(opts: HbonePoolOptions = {}): HbonePool {
  const p = new HbonePool(opts);
  cleanups.push(() => p.close());
  return p;
}

/** A dial that counts TCP connections. */
function countingDial(): { dial: DialFn; count: () => number } {
  let n = 0;
  return {
    dial: (address, port) => {
      n++;
      return defaultDial(address, port);
    },
    count: () => n,
  };
}

function target(port: number, extra: Partial<HboneTarget> = {}): HboneTarget {
  return {
    scope: 'pod-uid-1',
    source: clientCert,
    destinationAddress: '127.0.0.1',
    destinationPort: port,
    expectedIdentity: serverCert.identity.uri,
    authority: '127.0.0.1:9080',
    ...extra,
  };
}

/** Writes `text`, ends, and resolves with the echo. */
function roundTrip(stream: ClientHttp2Stream, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    stream.on('data', (c: Buffer) => got.push(c));
    stream.once('end', () => resolve(Buffer.concat(got).toString()));
    stream.once('error', reject);
    stream.end(text);
  });
}

/** Writes `text` without ending and resolves with its echo. */
function ping(stream: ClientHttp2Stream, text: string): Promise<string> {
  return new Promise((resolve) => {
    stream.once('data', (c: Buffer) => resolve(c.toString()));
    stream.write(text);
  });
}

async function until(cond: () => boolean, ms = 1500): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('HbonePool', () => {
  it('carries two tunnels on one connection', async () => {
    const { hbone, port } = await echoServer();
    const p = pool();
    const first = await p.open(target(port));
    const second = await p.open(target(port));
    expect(first.reusedConnection).toBe(false);
    expect(second.reusedConnection).toBe(true);
    expect(second.connectionId).toBe(first.connectionId);
    expect(p.stats().connections).toEqual([
      expect.objectContaining({ state: 'ready', streams: 2, peer: serverCert.identity.uri, destination: `127.0.0.1:${port}` }),
    ]);
    expect(hbone.stats()).toMatchObject({ sessions: 1, streams: 2 });
    expect(await roundTrip(first.stream, 'one')).toBe('one');
    expect(await roundTrip(second.stream, 'two')).toBe('two');
  });

  it('shares one handshake among concurrent opens to a fresh key', async () => {
    const { port } = await echoServer();
    const counter = countingDial();
    const p = pool();
    const tunnels = await Promise.all(Array.from({ length: 5 }, () => p.open(target(port, { dial: counter.dial }))));
    expect(counter.count()).toBe(1);
    expect(new Set(tunnels.map((t) => t.connectionId)).size).toBe(1);
    expect(tunnels.filter((t) => !t.reusedConnection)).toHaveLength(1);
  });

  it('opens another connection when the stream limit is reached', async () => {
    const { port } = await echoServer();
    const counter = countingDial();
    const p = pool({ maxStreamsPerConnection: 2 });
    const tunnels = await Promise.all([1, 2, 3].map(() => p.open(target(port, { dial: counter.dial }))));
    expect(counter.count()).toBe(2);
    expect(new Set(tunnels.map((t) => t.connectionId)).size).toBe(2);
    expect(p.stats().connections.map((c) => c.streams).sort()).toEqual([1, 2]);
  });

  it("honours the server's lower SETTINGS_MAX_CONCURRENT_STREAMS", async () => {
    const { port } = await echoServer({ maxConcurrentStreams: 1 });
    const p = pool();
    const first = await p.open(target(port));
    const second = await p.open(target(port));
    expect(second.connectionId).not.toBe(first.connectionId);
    expect(p.stats().connections.map((c) => c.maxStreams)).toEqual([1, 1]);
  });

  it('keeps pools apart by scope, source identity and expected identity', async () => {
    const { port } = await echoServer();
    const p = pool();
    const a = await p.open(target(port));
    const b = await p.open(target(port, { scope: 'pod-uid-2' }));
    const c = await p.open(target(port, { source: await ca.issue('bookinfo', 'details') }));
    const d = await p.open(target(port, { expectedIdentity: [serverCert.identity.uri, 'spiffe://cluster.local/ns/bookinfo/sa/x'] }));
    expect(new Set([a, b, c, d].map((t) => t.connectionId)).size).toBe(4);
  });

  it('closes a connection after idleTimeoutMs without streams, not while one is open', async () => {
    const { hbone, port } = await echoServer();
    const p = pool({ idleTimeoutMs: 100 });
    const tunnel = await p.open(target(port));
    await new Promise((r) => setTimeout(r, 250));
    expect(p.stats().connections).toHaveLength(1); // busy, so not idle
    expect(await roundTrip(tunnel.stream, 'bye')).toBe('bye');
    await until(() => p.stats().connections.length === 0 && hbone.stats().sessions === 0);
    const again = await p.open(target(port));
    expect(again.reusedConnection).toBe(false);
  });

  it('drops a connection that received GOAWAY; its open tunnel still finishes', async () => {
    const { hbone, port } = await echoServer();
    const p = pool();
    const tunnel = await p.open(target(port));
    const drained = hbone.drain(1500);
    await until(() => p.stats().connections.every((c) => c.state === 'draining'));
    expect(await ping(tunnel.stream, 'still here')).toBe('still here');
    // The server stopped listening: a new tunnel needs a new connection, which is refused.
    const refused = await p.open(target(port)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HboneError);
    expect(refused).toMatchObject({ code: HboneErrorCodes.CONNECT });
    expect((refused as Error).message).toMatch(/ECONNREFUSED/);
    expect(await roundTrip(tunnel.stream, 'done')).toBe('done');
    const started = Date.now();
    await drained;
    expect(Date.now() - started).toBeLessThan(1000); // ended by the last stream, not the deadline
  });

  it('reports dial failures, silent peers and closing as typed errors', async () => {
    const { port } = await echoServer();
    const p = pool({ connectTimeoutMs: 150 });

    const failing: DialFn = () => Promise.reject(Object.assign(new Error('connect EHOSTUNREACH'), { code: 'EHOSTUNREACH' }));
    expect(await p.open(target(port, { dial: failing })).catch((e: unknown) => e)).toMatchObject({
      code: HboneErrorCodes.CONNECT,
      message: expect.stringMatching(/EHOSTUNREACH; is the destination node's agent running/),
    });

    // Accepts TCP, never answers the ClientHello.
    const accepted: net.Socket[] = [];
    const silent = net.createServer((s) => accepted.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const s of accepted) s.destroy();
      return new Promise((r) => silent.close(r));
    });
    const silentPort = (silent.address() as net.AddressInfo).port;
    const started = Date.now();
    expect(await p.open(target(silentPort)).catch((e: unknown) => e)).toMatchObject({ code: HboneErrorCodes.CONNECT_TIMEOUT });
    expect(Date.now() - started).toBeLessThan(1000);

    const hanging: DialFn = () => new Promise(() => undefined);
    const pending = p.open(target(port, { dial: hanging })).catch((e: unknown) => e);
    p.close();
    p.close();
    expect(await pending).toMatchObject({ code: HboneErrorCodes.CLOSED });
    expect(await p.open(target(port)).catch((e: unknown) => e)).toMatchObject({ code: HboneErrorCodes.CLOSED });
  });

  it('publishes HBONE connection open and close, both ends, on the diagnostics channels', async () => {
    const opened: TunnelOpenMessage[] = [];
    const closed: TunnelCloseMessage[] = [];
    cleanups.push(Diagnostics.tunnelOpen.subscribe((m) => opened.push(m)));
    cleanups.push(Diagnostics.tunnelClose.subscribe((m) => closed.push(m)));
    const { port } = await echoServer();
    const p = pool({ idleTimeoutMs: 50 });
    const tunnel = await p.open(target(port));
    expect(await roundTrip(tunnel.stream, 'x')).toBe('x');
    await until(() => closed.length === 2);

    const client = opened.find((m) => m.direction === 'outbound');
    const server = opened.find((m) => m.direction === 'inbound');
    expect(client).toMatchObject({ peer: `127.0.0.1:${port}`, localIdentity: clientCert.identity.uri, peerIdentity: serverCert.identity.uri });
    expect(server).toMatchObject({ peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/), localIdentity: serverCert.identity.uri, peerIdentity: clientCert.identity.uri });
    expect(closed.find((m) => m.id === client?.id)).toMatchObject({ direction: 'outbound', streams: 1 });
    expect(closed.find((m) => m.id === server?.id)).toMatchObject({ direction: 'inbound', streams: 1 });
  });

  it('validates the target before connecting', async () => {
    const p = pool();
    const counter = countingDial();
    await expect(p.open(target(1, { authority: 'reviews:9080', dial: counter.dial }))).rejects.toMatchObject({
      code: HboneErrorCodes.BAD_AUTHORITY,
    });
    await expect(p.open(target(1, { expectedIdentity: 'reviews', dial: counter.dial }))).rejects.toThrow(/must start with "spiffe:\/\/"/);
    expect(counter.count()).toBe(0);
  });
});

describe('HboneServer lifecycle', () => {
  function fingerprintOf(cert: WorkloadCertificate): string {
    return new X509Certificate(cert.certChainPem[0]).fingerprint256;
  }

  function presentedBy(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ...workloadClientTlsOptions(clientCert, { identities: serverCert.identity.uri }) });
      s.once('secureConnect', () => {
        resolve(s.getPeerCertificate().fingerprint256);
        s.destroy();
      });
      s.once('error', reject);
    });
  }

  it('presents an updated certificate to new handshakes while open tunnels keep working', async () => {
    const { hbone, port } = await echoServer();
    const p = pool();
    const old = await p.open(target(port));
    expect(await presentedBy(port)).toBe(fingerprintOf(serverCert));

    const renewed = await ca.issue('bookinfo', 'reviews');
    hbone.updateCertificate(renewed);
    expect(hbone.certificate).toBe(renewed);
    expect(await presentedBy(port)).toBe(fingerprintOf(renewed));
    expect(await ping(old.stream, 'old connection')).toBe('old connection');

    const fresh = await pool().open(target(port));
    expect(await roundTrip(fresh.stream, 'new connection')).toBe('new connection');
    expect(await roundTrip(old.stream, 'bye')).toBe('bye');
  });

  it('refuses a certificate update to another identity', async () => {
    const { hbone } = await echoServer();
    const other = await ca.issue('bookinfo', 'ratings');
    expect(() => hbone.updateCertificate(other)).toThrow(/a listener's identity does not change/);
  });

  it('closes what is left when the drain deadline passes', async () => {
    const { hbone, port } = await echoServer();
    const tunnel = await pool().open(target(port));
    const closed = new Promise((r) => tunnel.stream.once('close', r));
    const started = Date.now();
    await hbone.drain(150);
    await closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(hbone.stats()).toEqual({ connections: 0, sessions: 0, streams: 0 });
    await hbone.close(); // idempotent
    await expect(hbone.listen({ port: 0, host: '127.0.0.1' })).rejects.toMatchObject({ code: HboneErrorCodes.CLOSED });
  });

  it('serves on several listeners (e.g. an IPv4 and an IPv6 fd of one pod)', async () => {
    const { hbone, port } = await echoServer();
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const secondPort = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await hbone.listen({ port: secondPort, host: '127.0.0.1' });

    const p = pool();
    const a = await p.open(target(port));
    const b = await p.open(target(secondPort));
    expect(await roundTrip(a.stream, 'first')).toBe('first');
    expect(await roundTrip(b.stream, 'second')).toBe('second');
    expect(hbone.stats().sessions).toBe(2);
  });
});
