// Native.createSocket / socketInfo / netnsCookie in the test's own network namespace
// (no netnsFd; loopback only). Sockets made in other namespaces are the privileged tier's.
import * as fs from 'fs';
import * as net from 'net';
import { AGENT_SOCKET_MARK } from '../../common/ports';
import { Native, SocketInfo, SocketOptions, socketFd } from '../../common/native/addon';

/** fds we own; an fd handed to a net.Server/net.Socket leaves this list (Node closes it). */
const rawFds: number[] = [];
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  for (const fd of rawFds.splice(0)) fs.closeSync(fd);
});

async function createSocket(options: SocketOptions): Promise<number> {
  const fd = await Native.createSocket(options);
  rawFds.push(fd);
  return fd;
}

function handOver(fd: number): void {
  rawFds.splice(rawFds.indexOf(fd), 1);
}

function track<T extends net.Socket>(s: T): T {
  sockets.push(s);
  return s;
}

/** The accepted socket's view: what socketInfo() says and what Node says. */
interface Accepted {
  info: SocketInfo;
  node: { localAddress?: string; localPort?: number; remoteAddress?: string; remotePort?: number };
}

/** A net.Server on `fd` that records the first accepted socket and replies 'pong'. */
async function serveOnFd(fd: number): Promise<{ server: net.Server; accepted: Promise<Accepted> }> {
  let onAccept!: (a: Accepted) => void;
  const accepted = new Promise<Accepted>((resolve) => (onAccept = resolve));
  const server = net.createServer((sock) => {
    track(sock);
    const { localAddress, localPort, remoteAddress, remotePort } = sock;
    onAccept({ info: Native.socketInfo(socketFd(sock)), node: { localAddress, localPort, remoteAddress, remotePort } });
    sock.end('pong');
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  handOver(fd);
  return { server, accepted };
}

/** Reads everything `sock` receives until the peer ends. */
function readAll(sock: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (data += d));
    sock.once('end', () => resolve(data));
    sock.once('error', reject);
  });
}

async function ownNetnsCookie(): Promise<bigint> {
  const nsFd = fs.openSync('/proc/self/ns/net', 'r');
  rawFds.push(nsFd);
  return Native.netnsCookie(nsFd);
}

async function failure(p: Promise<unknown>): Promise<Error & { code?: string; errno?: number; syscall?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe.each<[4 | 6, string]>([
  [4, '127.0.0.1'],
  [6, '::1'],
])('an IPv%d listener on %s', (family, address) => {
  it('is served by net.Server, and socketInfo() agrees with Node about the accepted socket', async () => {
    const fd = await createSocket({ family, address, port: 0, listen: true });
    const listener = Native.socketInfo(fd);
    expect(listener).toMatchObject({ local: { address, family }, remote: null, mark: 0 });
    expect(listener.local?.port).toBeGreaterThan(0);

    const { server, accepted } = await serveOnFd(fd);
    const bound = server.address() as net.AddressInfo;
    expect(bound).toMatchObject({ address, port: listener.local?.port });

    const client = track(net.connect(bound.port, address));
    const reply = readAll(client);
    await new Promise((resolve) => client.once('connect', resolve));
    const { info, node } = await accepted;
    expect(await reply).toBe('pong');

    expect(info.local).toEqual({ address: node.localAddress, port: node.localPort, family });
    expect(info.remote).toEqual({ address: node.remoteAddress, port: node.remotePort, family });
    // The accepted socket's peer is our client.
    expect(info.local).toEqual({ address, port: bound.port, family });
    expect(info.remote).toEqual({ address: client.localAddress, port: client.localPort, family });

    expect(typeof info.netnsCookie).toBe('bigint');
    expect(info.netnsCookie).toBeGreaterThan(0n);
    expect(info.netnsCookie).toBe(await ownNetnsCookie());
    expect(listener.netnsCookie).toBe(info.netnsCookie);
  });
});

describe('an unconnected socket', () => {
  it('reports no addresses, and net.Socket({fd}) connects with it', async () => {
    const target = net.createServer((s) => track(s).end('hello'));
    servers.push(target);
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const port = (target.address() as net.AddressInfo).port;

    const fd = await createSocket({ family: 4 });
    expect(Native.socketInfo(fd)).toMatchObject({ local: { address: '0.0.0.0', port: 0, family: 4 }, remote: null });

    const client = track(new net.Socket({ fd }));
    handOver(fd);
    const reply = readAll(client);
    client.connect(port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    // Node connected the very socket we made.
    expect(socketFd(client)).toBe(fd);
    expect(Native.socketInfo(fd).remote).toEqual({ address: '127.0.0.1', port, family: 4 });
    expect(await reply).toBe('hello');
  });
});

describe('options', () => {
  it('mark: SO_MARK is set and survives connect(); no mark means 0', async () => {
    const target = net.createServer((s) => track(s).end());
    servers.push(target);
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));

    const fd = await createSocket({ family: 4, mark: AGENT_SOCKET_MARK });
    expect(AGENT_SOCKET_MARK).toBe(0x539);
    expect(Native.socketInfo(fd).mark).toBe(0x539);
    expect(Native.socketInfo(await createSocket({ family: 4 })).mark).toBe(0);

    const client = track(new net.Socket({ fd }));
    handOver(fd);
    client.connect((target.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    expect(Native.socketInfo(socketFd(client)).mark).toBe(0x539);
  });

  it('listen without an address binds the wildcard', async () => {
    const v4 = await createSocket({ family: 4, port: 0, listen: true });
    expect(Native.socketInfo(v4).local).toMatchObject({ address: '0.0.0.0', family: 4 });
    const v6 = await createSocket({ family: 6, port: 0, listen: true });
    expect(Native.socketInfo(v6).local).toMatchObject({ address: '::', family: 6 });
  });

  it('IPv6 sockets are v6-only: [::]:P listens beside 127.0.0.1:P', async () => {
    const v4 = await createSocket({ family: 4, address: '127.0.0.1', port: 0, listen: true });
    const port = Native.socketInfo(v4).local?.port;
    const v6 = await createSocket({ family: 6, port, listen: true });
    expect(Native.socketInfo(v6).local).toEqual({ address: '::', port, family: 6 });
  });

  it('reusePort lets two listeners share a port', async () => {
    const a = await createSocket({ family: 4, address: '127.0.0.1', port: 0, listen: true, reusePort: true });
    const port = Native.socketInfo(a).local?.port;
    const b = await createSocket({ family: 4, address: '127.0.0.1', port, listen: true, reusePort: true });
    expect(Native.socketInfo(b).local).toEqual({ address: '127.0.0.1', port, family: 4 });
  });
});

describe('binding a port in use', () => {
  it.each<[4 | 6, string, (port: number) => string]>([
    [4, '127.0.0.1', (port) => `127.0.0.1:${port}`],
    [6, '::1', (port) => `[::1]:${port}`],
  ])('IPv%d: EADDRINUSE naming the address', async (family, address, where) => {
    const held = await createSocket({ family, address, port: 0, listen: true });
    const port = Native.socketInfo(held).local?.port as number;

    const e = await failure(createSocket({ family, address, port, listen: true }));
    expect(e).toMatchObject({ code: 'EADDRINUSE', errno: -98, syscall: 'bind' });
    expect(e.message).toContain(`cannot bind ${where(port)}`);
    expect(e.message).toContain('another socket holds it');
  });

  it('a port held by a Node server is refused too (SO_REUSEADDR does not steal listeners)', async () => {
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const e = await failure(createSocket({ family: 4, address: '127.0.0.1', port, listen: true }));
    expect(e).toMatchObject({ code: 'EADDRINUSE' });
    expect(e.message).toContain(`127.0.0.1:${port}`);
  });
});
