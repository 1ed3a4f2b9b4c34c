// common/net/netns-dial.ts, the one "socket made inside a netns, then connected" helper that the
// agent, the local runtime's probes and metrics dialer, and the CLI share. In the test's own
// network namespace (as a path and as an fd), loopback only; other namespaces are the privileged
// tier's (inbound-capture, local-runtime).
import fs from 'node:fs';
import net from 'node:net';
import { dialInNetns } from '../../common/net/netns-dial';
import { Native, socketFd } from '../../common/native/addon';
import { AGENT_SOCKET_MARK } from '../../common/ports';

const SELF = '/proc/self/ns/net';
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
const fds: number[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  for (const fd of fds.splice(0)) fs.closeSync(fd);
});

/** A loopback server that reports each connection's peer address. */
async function server(): Promise<{ port: number; peers: string[] }> {
  const peers: string[] = [];
  const srv = net.createServer((s) => {
    peers.push(s.remoteAddress ?? '?');
    s.end('pong');
  });
  servers.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { port: (srv.address() as net.AddressInfo).port, peers };
}

const reply = (s: net.Socket): Promise<string> =>
  new Promise((resolve) => {
    let text = '';
    s.setEncoding('utf8').on('data', (d: string) => (text += d)).once('end', () => resolve(text));
  });

async function rejection(p: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  try {
    await p;
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error('expected a rejection');
}

describe('dialInNetns', () => {
  it('connects from a netns given as a path or an fd, from `source` and with `mark`', async () => {
    const { port, peers } = await server();
    const byPath = await dialInNetns(SELF, '127.0.0.1', port, { source: '127.0.0.6', mark: AGENT_SOCKET_MARK, noDelay: true });
    sockets.push(byPath);
    expect(Native.socketInfo(socketFd(byPath)).mark).toBe(AGENT_SOCKET_MARK);
    expect(await reply(byPath)).toBe('pong');
    const fd = fs.openSync(SELF, 'r');
    fds.push(fd);
    const byFd = await dialInNetns(fd, '127.0.0.1', port);
    sockets.push(byFd);
    expect(await reply(byFd)).toBe('pong');
    expect(() => fs.fstatSync(fd)).not.toThrow(); // the caller's fd stays open
    expect(peers).toEqual(['127.0.0.6', '127.0.0.1']);
  });

  it('failures say which step failed: open, connect; an aborted signal rejects with "aborted"', async () => {
    const open = await rejection(dialInNetns('/nonexistent/netns', '127.0.0.1', 1));
    expect(open).toMatchObject({ code: 'ENOENT', syscall: 'open' });
    const { port } = await server();
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    const refused = await rejection(dialInNetns(SELF, '127.0.0.1', port));
    expect(refused).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    const ac = new AbortController();
    ac.abort();
    expect((await rejection(dialInNetns(SELF, '127.0.0.1', port, { signal: ac.signal }))).message).toBe('aborted');
  });

  it('timeoutMs: a connection that never completes fails with ETIMEDOUT (and aborting one in flight rejects)', async () => {
    // A listener with backlog 0 that never accepts: the kernel queues one connection, then drops SYNs.
    const lfd = await Native.createSocket({ family: 4, address: '127.0.0.1', port: 0, listen: true, backlog: 0 });
    fds.push(lfd);
    const port = Native.socketInfo(lfd).local!.port;
    const first = await dialInNetns(SELF, '127.0.0.1', port);
    sockets.push(first);
    const started = Date.now();
    const timedOut = await rejection(dialInNetns(SELF, '127.0.0.1', port, { timeoutMs: 300 }));
    expect(timedOut).toMatchObject({ code: 'ETIMEDOUT', message: `connect to 127.0.0.1:${port} timed out after 300 ms` });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    expect((await rejection(dialInNetns(SELF, '127.0.0.1', port, { signal: ac.signal }))).message).toBe('aborted');
  });
});
