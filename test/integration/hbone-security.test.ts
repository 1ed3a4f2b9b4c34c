/**
 * Who may talk HBONE to whom, over real TLS 1.3 on 127.0.0.1: the client checks the server's
 * SPIFFE ID, the server requires a client certificate from a trusted CA and trust domain, and a
 * bad connection (no certificate, garbage, HTTP/1, a rapid-reset flood) is closed on its own while
 * the server keeps serving good tunnels.
 */
import { randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { HboneError, HboneErrorCodes } from '../../common/hbone/errors';
import { HbonePool, HboneTarget } from '../../common/hbone/pool';
import { createHboneServer, HboneServer, HboneServerOptions } from '../../common/hbone/server';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import { TlsError, TlsErrorCodes } from '../../common/tls/errors';
import { workloadClientTlsOptions } from '../../common/tls/options';
import { TestCa, withTrustBundle } from '../support/test-ca';
import { cleanupAfterEach, issueTestPair } from '../support/hbone-fixture';

const REVIEWS = 'spiffe://cluster.local/ns/bookinfo/sa/reviews';
const RATINGS = 'spiffe://cluster.local/ns/bookinfo/sa/ratings';
/**
 * What a client is told when the server refuses its certificate: Node's server completes the
 * TLS 1.3 handshake and then closes without an alert, so the reason is only in the server's log.
 */
const REFUSED = /closed the connection before HTTP\/2 was set up; the peer may not accept our certificate/;

let ca: TestCa;
let otherTd: TestCa;
let serverCert: WorkloadCertificate;
let clientCert: WorkloadCertificate;
const cleanups = cleanupAfterEach();

beforeAll(async () => {
  ({ ca, serverCert, clientCert } = await issueTestPair());
  otherTd = await TestCa.create('other.example');
});


/** An HBONE server that answers every tunnel 204-free: reject(418) proves the request got through. */
async function server(opts: Partial<HboneServerOptions> = {}): Promise<{ hbone: HboneServer; port: number }> {
  const hbone = createHboneServer({
    certificate: serverCert,
    onTunnel: (req) => req.reject(418, `reached as ${req.peer.uri}`),
    ...opts,
  });
  await hbone.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => hbone.close());
  return { hbone, port: hbone.address().port };
}

/** Opens a tunnel with a fresh pool; resolves with what it rejected with (or the tunnel). */
async function attempt(port: number, overrides: Partial<HboneTarget> = {}): Promise<unknown> {
  const pool = new HbonePool({ connectTimeoutMs: 1500 });
  cleanups.push(() => pool.close());
  return pool
    .open({
      scope: 'pod-uid-1',
      source: clientCert,
      destinationAddress: '127.0.0.1',
      destinationPort: port,
      expectedIdentity: REVIEWS,
      authority: '127.0.0.1:9080',
      ...overrides,
    })
    .catch((e: unknown) => e);
}

/** The request reached onTunnel (which refuses with 418 by design of these tests). */
function expectServed(result: unknown, asIdentity = 'spiffe://cluster.local/ns/bookinfo/sa/productpage'): void {
  expect(result).toBeInstanceOf(HboneError);
  expect(result).toMatchObject({ code: HboneErrorCodes.REJECTED, status: 418, reason: `reached as ${asIdentity}` });
}

function expectHandshakeError(result: unknown, message: RegExp): void {
  expect(result).toBeInstanceOf(HboneError);
  expect((result as HboneError).code).toBe(HboneErrorCodes.HANDSHAKE);
  expect((result as HboneError).message).toMatch(message);
}

/** A raw socket's fate: resolves once closed, with whatever it received. */
function closedWith(socket: net.Socket): Promise<Buffer> {
  const got: Buffer[] = [];
  socket.on('data', (c: Buffer) => got.push(c));
  socket.on('error', () => undefined);
  cleanups.push(() => socket.destroy());
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(got))));
}

describe('client-side checks of the server', () => {
  it('refuses a server presenting another identity, naming both', async () => {
    const { port } = await server();
    const err = await attempt(port, { expectedIdentity: RATINGS });
    expect(err).toBeInstanceOf(TlsError);
    expect(err).toMatchObject({ code: TlsErrorCodes.PEER_IDENTITY });
    expect((err as Error).message).toBe(`peer presented ${REVIEWS}, expected ${RATINGS}`);
  });

  it('accepts a server whose identity is one of several expected', async () => {
    const { port } = await server();
    expectServed(await attempt(port, { expectedIdentity: [RATINGS, REVIEWS] }));
  });

  it('refuses a server certificate of another trust domain (not in our bundle)', async () => {
    const { port } = await server({ certificate: await otherTd.issue('bookinfo', 'reviews') });
    expectHandshakeError(await attempt(port, { expectedIdentity: 'spiffe://other.example/ns/bookinfo/sa/reviews' }), /does not chain to our trust bundle/);
  });

  it('refuses a server of another trust domain even when its root is federated in', async () => {
    const federated = [...ca.bundle, ...otherTd.bundle];
    const { port } = await server({
      certificate: withTrustBundle(await otherTd.issue('bookinfo', 'reviews'), federated),
      trustDomains: ['cluster.local', 'other.example'],
    });
    const err = await attempt(port, { source: withTrustBundle(clientCert, federated) });
    expect(err).toBeInstanceOf(TlsError);
    expect((err as Error).message).toBe(`peer presented spiffe://other.example/ns/bookinfo/sa/reviews, expected ${REVIEWS}`);
  });

  it('refuses an expired server certificate', async () => {
    const { port } = await server({ certificate: await ca.issue('bookinfo', 'reviews', { expired: true }) });
    expectHandshakeError(await attempt(port), /CERT_HAS_EXPIRED.*has expired/);
  });

  it('refuses a server certificate without a SPIFFE URI SAN', async () => {
    const { port } = await server({ certificate: await ca.issue('bookinfo', 'reviews', { uriSans: [], dnsSans: ['reviews.bookinfo'] }) });
    const err = await attempt(port);
    expect(err).toBeInstanceOf(TlsError);
    expect(err).toMatchObject({ code: TlsErrorCodes.NO_PEER_IDENTITY });
    expect((err as Error).message).toMatch(/has 0 URI SANs/);
  });
});

describe('server-side checks of the client', () => {
  it('refuses a TLS client without a certificate and keeps serving others', async () => {
    const { port } = await server();
    const { key: _key, cert: _cert, ...noClientCert } = workloadClientTlsOptions(clientCert, { identities: REVIEWS });
    const bare = tls.connect({ host: '127.0.0.1', port, ...noClientCert });
    const error = new Promise<Error>((resolve) => bare.once('error', resolve));
    bare.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    expect(((await error) as NodeJS.ErrnoException).code).toMatch(/ALERT_CERTIFICATE_REQUIRED/);
    expectServed(await attempt(port));
  });

  it('refuses a client certificate of another trust domain (not in its bundle)', async () => {
    const { port } = await server();
    const foreign = withTrustBundle(await otherTd.issue('bookinfo', 'productpage'), ca.bundle);
    expectHandshakeError(await attempt(port, { source: foreign }), REFUSED);
  });

  it('refuses a client of a federated but not served trust domain', async () => {
    const federated = [...ca.bundle, ...otherTd.bundle];
    const { port } = await server({ certificate: withTrustBundle(serverCert, federated) });
    const foreign = withTrustBundle(await otherTd.issue('bookinfo', 'productpage'), federated);
    expectHandshakeError(await attempt(port, { source: foreign }), REFUSED);
  });

  it('serves a federated trust domain when told to', async () => {
    const federated = [...ca.bundle, ...otherTd.bundle];
    const { port } = await server({ certificate: withTrustBundle(serverCert, federated), trustDomains: ['cluster.local', 'other.example'] });
    const foreign = withTrustBundle(await otherTd.issue('bookinfo', 'productpage'), federated);
    expectServed(await attempt(port, { source: foreign }), 'spiffe://other.example/ns/bookinfo/sa/productpage');
  });

  it('refuses an expired client certificate', async () => {
    const { port } = await server();
    const expired = await ca.issue('bookinfo', 'productpage', { expired: true });
    expectHandshakeError(await attempt(port, { source: expired }), REFUSED);
  });

  it('refuses a client certificate of the right trust domain signed by an untrusted root', async () => {
    const { port } = await server();
    const rogueCa = await TestCa.create('cluster.local');
    const rogue = await rogueCa.issue('bookinfo', 'productpage', { trustBundlePem: ca.bundle });
    expectHandshakeError(await attempt(port, { source: rogue }), REFUSED);
  });

  it.each([
    ['no URI SAN', { uriSans: [] as string[], dnsSans: ['productpage.bookinfo'] }],
    ['two URI SANs', { uriSans: ['spiffe://cluster.local/ns/bookinfo/sa/productpage', 'spiffe://cluster.local/ns/bookinfo/sa/admin'] }],
    ['a non-SPIFFE URI SAN', { uriSans: ['https://productpage.bookinfo/'] }],
  ])('refuses a client certificate with %s', async (_what, sans) => {
    const { port } = await server();
    const odd = await ca.issue('bookinfo', 'productpage', sans);
    expectHandshakeError(await attempt(port, { source: odd }), REFUSED);
  });
});

describe('connections that are not HBONE', () => {
  it('closes garbage, plain HTTP/1.1 and TLS without h2, then serves a good tunnel', async () => {
    const { hbone, port } = await server();
    const garbage = net.connect({ port, host: '127.0.0.1' });
    garbage.write(randomBytes(512));
    const http1 = net.connect({ port, host: '127.0.0.1' });
    http1.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const { ALPNProtocols: _h2, ...opts } = workloadClientTlsOptions(clientCert, { identities: REVIEWS });
    const tlsHttp1 = tls.connect({ host: '127.0.0.1', port, ...opts, ALPNProtocols: ['http/1.1'] });
    tlsHttp1.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');

    await closedWith(garbage);
    const http1Reply = await closedWith(http1);
    const tlsReply = await closedWith(tlsHttp1);
    // Never an HTTP answer: at most a TLS alert record (content type 21).
    expect(http1Reply.toString('latin1')).not.toMatch(/HTTP\//);
    expect(tlsReply.toString('latin1')).not.toMatch(/HTTP\//);

    expectServed(await attempt(port));
    expect(hbone.stats().sessions).toBeLessThanOrEqual(1);
  });

  it('closes a connection that does not finish the TLS handshake in time', async () => {
    const { port } = await server({ handshakeTimeoutMs: 200 });
    const idle = net.connect({ port, host: '127.0.0.1' });
    const started = Date.now();
    await closedWith(idle);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('answers a rapid-reset flood with GOAWAY ENHANCE_YOUR_CALM and keeps serving others', async () => {
    // Flood streams (to :9080) are never answered: they stay open until the client resets them.
    const { port } = await server({
      maxResetsPerSecond: 10,
      onTunnel: (req) => {
        if (req.authority.port !== 9080) req.reject(418, `reached as ${req.peer.uri}`);
      },
    });
    const session = http2.connect(`https://127.0.0.1:${port}`, {
      createConnection: () => tls.connect({ host: '127.0.0.1', port, ...workloadClientTlsOptions(clientCert, { identities: REVIEWS }) }),
    });
    session.on('error', () => undefined);
    cleanups.push(() => session.destroy());
    await new Promise((r) => session.once('remoteSettings', r));
    const goaway = new Promise<number>((resolve) => session.once('goaway', resolve));

    const streams = Array.from({ length: 30 }, () => {
      const s = session.request({ ':method': 'CONNECT', ':authority': '127.0.0.1:9080' });
      s.on('error', () => undefined);
      return s;
    });
    // Let the HEADERS go out first, as an attacker would; then cancel them all.
    await new Promise((r) => setTimeout(r, 20));
    for (const s of streams) s.close(http2.constants.NGHTTP2_CANCEL);

    expect(await goaway).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    await new Promise((r) => session.once('close', r));
    // A well-behaved client on another connection is still served.
    expectServed(await attempt(port, { authority: '127.0.0.1:8080' }));
  });

  it('refuses a header block over maxHeaderListBytes without affecting the connection', async () => {
    const { port } = await server({ maxHeaderListBytes: 4096 });
    const pool = new HbonePool();
    cleanups.push(() => pool.close());
    const target = {
      scope: 'pod-uid-1',
      source: clientCert,
      destinationAddress: '127.0.0.1',
      destinationPort: port,
      expectedIdentity: REVIEWS,
      authority: '127.0.0.1:9080',
    };
    const big = await pool.open({ ...target, headers: { baggage: `k=${'v'.repeat(8000)}` } }).catch((e: unknown) => e);
    // Reset before onTunnel (which would have answered 418).
    expect(big).toBeInstanceOf(HboneError);
    expect(big).toMatchObject({ code: HboneErrorCodes.STREAM, status: undefined });
    expectServed(await pool.open(target).catch((e: unknown) => e));
  });
});
