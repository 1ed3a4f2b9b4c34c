/**
 * relay() between two TCP sockets on 127.0.0.1 (a plaintext proxy hop): byte counts, half-close
 * in each direction, reset propagation, and backpressure with a reader that stops reading.
 * Socket <-> HTTP/2 stream and stream <-> stream are covered in hbone-tunnel.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { HboneError, HboneErrorCodes } from '../../common/hbone/errors';
import { relay, RelayResult } from '../../common/hbone/relay';
import { cleanupAfterEach } from '../support/hbone-fixture';

const cleanups = cleanupAfterEach();

async function listen(onSocket: (s: net.Socket) => void): Promise<number> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return (server.address() as net.AddressInfo).port;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
    cleanups.push(() => s.destroy());
  });
}

/** client -> proxy (relay) -> upstream; resolves with the client socket and the relay's result. */
async function proxied(onUpstream: (s: net.Socket) => void): Promise<{ client: net.Socket; result: Promise<RelayResult>; proxyIn: Promise<net.Socket> }> {
  const upstreamPort = await listen(onUpstream);
  let result!: Promise<RelayResult>;
  let gotIn!: (s: net.Socket) => void;
  const proxyIn = new Promise<net.Socket>((r) => (gotIn = r));
  const proxyPort = await listen((inbound) => {
    inbound.pause();
    const outbound = net.connect({ port: upstreamPort, host: '127.0.0.1', allowHalfOpen: true });
    outbound.on('error', () => undefined);
    cleanups.push(() => outbound.destroy());
    result = new Promise((resolve) => outbound.once('connect', () => resolve(relay(inbound, outbound))));
    gotIn(inbound);
  });
  const client = await connect(proxyPort);
  await proxyIn;
  return { client, result, proxyIn };
}

function readToEnd(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('error', reject);
  });
}

describe('relay() between sockets', () => {
  it('answers after the client FIN and counts both directions', async () => {
    const { client, result } = await proxied((s) => readToEnd(s).then((got) => s.end(`echo:${got.toString()}`)));
    const reply = readToEnd(client);
    client.end('abc');
    expect((await reply).toString()).toBe('echo:abc');
    expect(await result).toMatchObject({ bytesAToB: 3, bytesBToA: 8, firstClosed: 'a', error: undefined });
    expect((await result).durationMs).toBeGreaterThan(0);
  });

  it('keeps carrying client data after the upstream FIN', async () => {
    let upstreamGot!: Promise<Buffer>;
    const { client, result } = await proxied((s) => {
      upstreamGot = readToEnd(s);
      s.end('bye first');
    });
    expect((await readToEnd(client)).toString()).toBe('bye first');
    client.end('late words');
    expect((await upstreamGot).toString()).toBe('late words');
    expect(await result).toMatchObject({ firstClosed: 'b', error: undefined, bytesAToB: 10, bytesBToA: 9 });
  });

  it('passes a reset on as a reset', async () => {
    const { client, result } = await proxied((s) => s.once('data', () => s.resetAndDestroy()));
    const clientError = new Promise<NodeJS.ErrnoException>((r) => client.once('error', r));
    client.write('x');
    expect((await clientError).code).toBe('ECONNRESET');
    const r = await result;
    expect(r.errorSide).toBe('b');
    expect((r.error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  });

  it('pauses the writer while the reader does not read, and loses nothing', async () => {
    let gotUpstream!: (s: net.Socket) => void;
    const upstreamReady = new Promise<net.Socket>((r) => (gotUpstream = r));
    const { client, result, proxyIn } = await proxied((s) => {
      s.pause();
      gotUpstream(s);
    });
    const inbound = await proxyIn;
    const upstream = await upstreamReady;
    const payload = randomBytes(16 * 1024 * 1024);
    client.end(payload);
    // The paused reader's buffer and the kernel's fill up; then the relay must stop reading the client.
    const deadline = Date.now() + 1500;
    while (!(upstream.readableLength > 0 && inbound.isPaused()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(upstream.readableLength).toBeGreaterThan(0);
    expect(inbound.isPaused()).toBe(true);
    expect(inbound.readableLength + upstream.readableLength).toBeLessThan(payload.length / 2);
    const got = readToEnd(upstream);
    upstream.resume();
    const received = await got;
    upstream.end();
    expect(createHash('sha256').update(received).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    expect((await result).bytesAToB).toBe(payload.length);
  });

  it('resolves at once, with an error, when a side is already destroyed', async () => {
    const a = new net.Socket();
    a.destroy();
    const { client } = await proxied(() => undefined);
    const r = await relay(a, client);
    expect(r.error).toBeInstanceOf(HboneError);
    expect(r).toMatchObject({ errorSide: 'a', error: { code: HboneErrorCodes.RESET } });
  });
});
