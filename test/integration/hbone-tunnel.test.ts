/**
 * HBONE end to end over real mTLS on 127.0.0.1: an app socket -> a client relay -> a pooled
 * tunnel -> the HBONE server -> a server relay -> an upstream TCP server, the way the agent wires
 * them. Bytes, half-closes, resets and refusals are checked where the app and the upstream see them.
 */
import { createHash, randomBytes } from 'node:crypto';
import http2, { ClientHttp2Stream, ServerHttp2Stream } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { HboneError, HboneErrorCodes } from '../../common/hbone/errors';
import { HbonePool, HboneTunnel } from '../../common/hbone/pool';
import { relay, RelayResult } from '../../common/hbone/relay';
import { createHboneServer, HboneRequest, HboneServer } from '../../common/hbone/server';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import { workloadClientTlsOptions } from '../../common/tls/options';
import { TestCa } from '../support/test-ca';
import { cleanupAfterEach, issueTestPair } from '../support/hbone-fixture';

const { NGHTTP2_CONNECT_ERROR } = http2.constants;
const MiB = 1024 * 1024;

let ca: TestCa;
let serverCert: WorkloadCertificate;
let clientCert: WorkloadCertificate;
const cleanups = cleanupAfterEach();

beforeAll(async () => {
  ({ ca, serverCert, clientCert } = await issueTestPair());
});


/** A TCP server on 127.0.0.1:0 with half-open sockets; `onSocket` plays the application. */
async function tcpServer(onSocket: (s: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return { server, port: (server.address() as net.AddressInfo).port };
}

interface ServerSide {
  hbone: HboneServer;
  port: number;
  /** Results and streams of the server-side relays, in order. */
  relays: Array<{ stream: ServerHttp2Stream; result: Promise<RelayResult> }>;
}

/** The destination agent: connect to the authority, answer 200 only once connected, then relay. */
async function hboneServer(onTunnel?: (req: HboneRequest) => void): Promise<ServerSide> {
  const relays: ServerSide['relays'] = [];
  const hbone = createHboneServer({
    certificate: serverCert,
    onTunnel:
      onTunnel ??
      ((req) => {
        const upstream = net.connect({ host: req.authority.host, port: req.authority.port, allowHalfOpen: true });
        const refused = (): void => req.reject(503, 'connect refused');
        upstream.once('error', refused);
        upstream.once('connect', () => {
          upstream.off('error', refused);
          const stream = req.accept();
          relays.push({ stream, result: relay(stream, upstream) });
        });
      }),
  });
  await hbone.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => hbone.close());
  return { hbone, port: hbone.address().port, relays };
}

/** The source agent: a local listener whose connections are tunnelled to `authority`. */
async function outboundListener(pool: HbonePool, hbonePort: number, authority: string) {
  const tunnels: HboneTunnel[] = [];
  const results: Array<Promise<RelayResult>> = [];
  const { port } = await tcpServer((app) => {
    app.pause();
    pool
      .open({
        scope: 'pod-uid-1',
        source: clientCert,
        destinationAddress: '127.0.0.1',
        destinationPort: hbonePort,
        expectedIdentity: serverCert.identity.uri,
        authority,
      })
      .then(
        (t) => {
          tunnels.push(t);
          results.push(relay(app, t.stream));
        },
        () => app.resetAndDestroy(),
      );
  });
  return { port, tunnels, results };
}

function newPool(): HbonePool {
  const pool = new HbonePool();
  cleanups.push(() => pool.close());
  return pool;
}

function connectApp(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
    cleanups.push(() => s.destroy());
  });
}

/** Everything `s` sends until its FIN. */
function readToEnd(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('error', reject);
  });
}

function errorOf(s: net.Socket): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve) => s.once('error', resolve));
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('HBONE tunnel', () => {
  it('echoes 5 MiB each way intact, and both relays count every byte', async () => {
    const upstream = await tcpServer((s) => s.pipe(s));
    const server = await hboneServer();
    const client = await outboundListener(newPool(), server.port, `127.0.0.1:${upstream.port}`);
    const app = await connectApp(client.port);

    const payload = randomBytes(5 * MiB);
    const echoed = readToEnd(app);
    app.end(payload);
    const back = await echoed;

    expect(back.length).toBe(payload.length);
    expect(sha256(back)).toBe(sha256(payload));
    const [serverResult] = await Promise.all(server.relays.map((r) => r.result));
    const [clientResult] = await Promise.all(client.results);
    expect(serverResult).toMatchObject({ bytesAToB: 5 * MiB, bytesBToA: 5 * MiB, error: undefined, firstClosed: 'a' });
    expect(clientResult).toMatchObject({ bytesAToB: 5 * MiB, bytesBToA: 5 * MiB, error: undefined, firstClosed: 'a' });
    expect(client.tunnels[0].peerIdentity.uri).toBe('spiffe://cluster.local/ns/bookinfo/sa/reviews');
  });

  it('keeps the upstream-to-app direction open after the app half-closes', async () => {
    let upstreamGot: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
    const upstream = await tcpServer((s) => {
      upstreamGot = readToEnd(s);
      // Answers only after the app's FIN arrived.
      void upstreamGot.then(() => s.end('reply after your FIN'));
    });
    const server = await hboneServer();
    const client = await outboundListener(newPool(), server.port, `127.0.0.1:${upstream.port}`);
    const app = await connectApp(client.port);

    const reply = readToEnd(app);
    app.end('request');
    expect((await reply).toString()).toBe('reply after your FIN');
    expect((await upstreamGot).toString()).toBe('request');
    expect((await server.relays[0].result).firstClosed).toBe('a'); // the tunnel side ended first
  });

  it('keeps the app-to-upstream direction open after the upstream half-closes', async () => {
    let upstreamGot: Promise<Buffer> | undefined;
    const upstream = await tcpServer((s) => {
      upstreamGot = readToEnd(s);
      s.end('greeting, then FIN');
    });
    const server = await hboneServer();
    const client = await outboundListener(newPool(), server.port, `127.0.0.1:${upstream.port}`);
    const app = await connectApp(client.port);

    expect((await readToEnd(app)).toString()).toBe('greeting, then FIN');
    app.end('data sent after the FIN');
    await new Promise((r) => app.once('close', r));
    expect((await upstreamGot!).toString()).toBe('data sent after the FIN');
    expect((await server.relays[0].result).firstClosed).toBe('b');
  });

  it('turns an upstream TCP reset into RST_STREAM(CONNECT_ERROR) and then a reset of the app socket', async () => {
    const upstream = await tcpServer((s) => s.once('data', () => s.resetAndDestroy()));
    const server = await hboneServer();
    const client = await outboundListener(newPool(), server.port, `127.0.0.1:${upstream.port}`);
    const app = await connectApp(client.port);

    const appError = errorOf(app);
    app.write('trigger');
    expect((await appError).code).toBe('ECONNRESET');
    const clientResult = await client.results[0];
    expect(client.tunnels[0].stream.rstCode).toBe(NGHTTP2_CONNECT_ERROR);
    expect(clientResult.errorSide).toBe('b');
    expect((await server.relays[0].result).error?.message).toMatch(/ECONNRESET/);
  });

  it('turns an app TCP reset into RST_STREAM(CONNECT_ERROR) and then a reset of the upstream socket', async () => {
    let upstreamError: Promise<NodeJS.ErrnoException> | undefined;
    const upstream = await tcpServer((s) => {
      upstreamError = errorOf(s);
      s.write('hello');
    });
    const server = await hboneServer();
    const client = await outboundListener(newPool(), server.port, `127.0.0.1:${upstream.port}`);
    const app = await connectApp(client.port);

    await new Promise((r) => app.once('data', r));
    app.resetAndDestroy();
    const serverResult = await server.relays[0].result;
    expect(server.relays[0].stream.rstCode).toBe(NGHTTP2_CONNECT_ERROR);
    expect(serverResult.errorSide).toBe('a');
    expect((await upstreamError!).code).toBe('ECONNRESET');
  });

  it('reports an upstream refusal as HboneError 503 with the server reason', async () => {
    const closed = await tcpServer(() => undefined);
    await new Promise((r) => closed.server.close(r));
    const server = await hboneServer();
    const err = await newPool()
      .open({
        scope: 'pod-uid-1',
        source: clientCert,
        destinationAddress: '127.0.0.1',
        destinationPort: server.port,
        expectedIdentity: serverCert.identity.uri,
        authority: `127.0.0.1:${closed.port}`,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HboneError);
    expect(err).toMatchObject({ code: HboneErrorCodes.REJECTED, status: 503, reason: 'connect refused' });
  });

  it('gives onTunnel the peer identity, authority, tunnel headers and connection addresses', async () => {
    let seen: HboneRequest | undefined;
    const server = await hboneServer((req) => {
      seen = req;
      req.reject(403, 'denied by test');
    });
    const err = await newPool()
      .open({
        scope: 'pod-uid-1',
        source: clientCert,
        destinationAddress: '127.0.0.1',
        destinationPort: server.port,
        expectedIdentity: [serverCert.identity.uri, 'spiffe://cluster.local/ns/bookinfo/sa/other'],
        authority: '[fd00::7]:9080',
        headers: { forwarded: 'for=10.0.0.1', baggage: 'k=v', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, reason: 'denied by test' });
    expect(seen?.peer.uri).toBe('spiffe://cluster.local/ns/bookinfo/sa/productpage');
    expect(seen?.authority).toEqual({ host: 'fd00::7', port: 9080 });
    expect(seen?.headers).toEqual({
      forwarded: 'for=10.0.0.1',
      baggage: 'k=v',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(seen).toMatchObject({ localAddress: '127.0.0.1', localPort: server.port, remoteAddress: '127.0.0.1' });
  });

  it('relays stream to stream through a waypoint-like hop', async () => {
    const upstream = await tcpServer((s) => s.pipe(s));
    const destination = await hboneServer();
    const hopPool = newPool();
    const hopResults: Array<Promise<RelayResult>> = [];
    // The waypoint: terminates one tunnel and opens the next, relaying stream <-> stream.
    const waypoint = await hboneServer((req) => {
      hopPool
        .open({
          scope: 'waypoint',
          source: serverCert,
          destinationAddress: '127.0.0.1',
          destinationPort: destination.port,
          expectedIdentity: serverCert.identity.uri,
          authority: `${req.authority.host}:${req.authority.port}`,
        })
        .then(
          (next) => hopResults.push(relay(req.accept(), next.stream)),
          (e: HboneError) => req.reject(e.status ?? 503, e.message),
        );
    });
    const client = await outboundListener(newPool(), waypoint.port, `127.0.0.1:${upstream.port}`);
    const app = await connectApp(client.port);

    const payload = randomBytes(MiB);
    const echoed = readToEnd(app);
    app.end(payload);
    expect(sha256(await echoed)).toBe(sha256(payload));
    expect(await hopResults[0]).toMatchObject({ bytesAToB: MiB, bytesBToA: MiB, error: undefined });
  });
});

describe('HBONE server request checks', () => {
  /** A raw HTTP/2 client with a valid workload certificate, to send what the pool never would. */
  async function rawSession(port: number): Promise<http2.ClientHttp2Session> {
    const session = http2.connect(`https://127.0.0.1:${port}`, {
      createConnection: () =>
        tls.connect({ host: '127.0.0.1', port, ...workloadClientTlsOptions(clientCert, { identities: serverCert.identity.uri }) }),
    });
    session.on('error', () => undefined);
    cleanups.push(() => session.destroy());
    await new Promise((r) => session.once('remoteSettings', r));
    return session;
  }

  function answer(stream: ClientHttp2Stream): Promise<http2.IncomingHttpHeaders> {
    return new Promise((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('error', reject);
    });
  }

  it('answers 405 with a reason to a method other than CONNECT', async () => {
    const server = await hboneServer(() => {
      throw new Error('onTunnel must not see a GET');
    });
    const session = await rawSession(server.port);
    const headers = await answer(session.request({ ':method': 'GET', ':path': '/' }));
    expect(headers[':status']).toBe(405);
    expect(headers['ambit-error']).toMatch(/method GET is not allowed; HBONE accepts CONNECT only/);
    expect(headers.allow).toBe('CONNECT');
  });

  it.each([['reviews.bookinfo:9080'], ['127.0.0.1'], ['127.0.0.1:0'], ['[fd00::1]'], ['fd00::1:80']])(
    'answers 400 to the authority %s before onTunnel',
    async (authority) => {
      const server = await hboneServer(() => {
        throw new Error('onTunnel must not see a bad authority');
      });
      const session = await rawSession(server.port);
      const headers = await answer(session.request({ ':method': 'CONNECT', ':authority': authority }));
      expect(headers[':status']).toBe(400);
      expect(headers['ambit-error']).toContain(`authority "${authority}"`);
    },
  );

  it('answers 500 when onTunnel throws, and keeps serving', async () => {
    let calls = 0;
    const server = await hboneServer((req) => {
      if (++calls === 1) throw new Error('handler bug');
      req.reject(418, 'second call reached');
    });
    const session = await rawSession(server.port);
    const first = await answer(session.request({ ':method': 'CONNECT', ':authority': '127.0.0.1:80' }));
    const second = await answer(session.request({ ':method': 'CONNECT', ':authority': '127.0.0.1:80' }));
    expect(first[':status']).toBe(500);
    expect(second).toMatchObject({ ':status': 418, 'ambit-error': 'second call reached' });
  });
});
