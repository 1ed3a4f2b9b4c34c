// UDP sockets from the addon's netns socket factory (Native.createSocket({ type: 'udp' })),
// in the test's own network namespace: what the DNS proxy binds on 127.0.0.1/[::1]:15053 in
// each pod, served by Node's dgram through socket.bind({ fd }). Pod namespaces: privileged tier.
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { AGENT_SOCKET_MARK } from '../../common/ports';
import { Native } from '../../common/native/addon';
import { ErrorCodes } from '../../common/errors';

const rawFds: number[] = [];
const sockets: dgram.Socket[] = [];

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  for (const fd of rawFds.splice(0)) fs.closeSync(fd);
});

async function udpFd(family: 4 | 6, address: string, port = 0, mark?: number): Promise<number> {
  const fd = await Native.createSocket({ family, type: 'udp', address, port, mark });
  rawFds.push(fd);
  return fd;
}

/** dgram socket served on `fd` (Node owns the fd from here). */
async function bindFd(fd: number, type: 'udp4' | 'udp6'): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  sockets.push(s);
  await new Promise<void>((resolve, reject) => s.once('error', reject).bind({ fd }, () => resolve()));
  rawFds.splice(rawFds.indexOf(fd), 1);
  return s;
}

function roundTrip(server: dgram.Socket, type: 'udp4' | 'udp6', host: string): Promise<{ reply: string; from: dgram.RemoteInfo; seen: dgram.RemoteInfo }> {
  return new Promise((resolve, reject) => {
    const client = dgram.createSocket(type);
    sockets.push(client);
    let seen: dgram.RemoteInfo;
    server.once('message', (msg, rinfo) => {
      seen = rinfo;
      server.send(`pong:${msg}`, rinfo.port, rinfo.address);
    });
    client.once('message', (msg, from) => resolve({ reply: msg.toString(), from, seen }));
    client.once('error', reject);
    client.send('ping', server.address().port, host);
  });
}

describe('Native.createSocket({ type: "udp" })', () => {
  it.each<[4 | 6, string, 'udp4' | 'udp6']>([
    [4, '127.0.0.1', 'udp4'],
    [6, '::1', 'udp6'],
  ])('binds an IPv%d UDP socket on %s that dgram serves through bind({ fd })', async (family, address, type) => {
    const fd = await udpFd(family, address, 0, AGENT_SOCKET_MARK);
    const info = Native.socketInfo(fd);
    expect(info).toMatchObject({ mark: AGENT_SOCKET_MARK, remote: null, local: { address, family } });
    expect(info.local!.port).toBeGreaterThan(0);
    const server = await bindFd(fd, type);
    expect(server.address()).toMatchObject({ address, port: info.local!.port });
    const r = await roundTrip(server, type, address);
    expect(r.reply).toBe('pong:ping');
    expect(r.from).toMatchObject({ address, port: info.local!.port });
  });

  it('refuses a second socket on the same address and port (no SO_REUSEADDR on UDP)', async () => {
    const fd = await udpFd(4, '127.0.0.1');
    const port = Native.socketInfo(fd).local!.port;
    await expect(Native.createSocket({ family: 4, type: 'udp', address: '127.0.0.1', port })).rejects.toMatchObject({
      code: 'EADDRINUSE',
      syscall: 'bind',
    });
  });

  it('makes TCP when type is left out or "tcp", and a UDP socket has no TCP listener behind it', async () => {
    const tcpConnect = (port: number) =>
      new Promise<string>((resolve) => {
        const c = net.connect(port, '127.0.0.1');
        c.once('connect', () => (c.destroy(), resolve('connected')));
        c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
    for (const type of [undefined, 'tcp'] as const) {
      const fd = await Native.createSocket({ family: 4, type, address: '127.0.0.1', port: 0, listen: true });
      rawFds.push(fd);
      expect(await tcpConnect(Native.socketInfo(fd).local!.port)).toBe('connected');
    }
    const udp = await udpFd(4, '127.0.0.1');
    expect(await tcpConnect(Native.socketInfo(udp).local!.port)).toBe('ECONNREFUSED');
  });

  it('rejects a bad type and a listening UDP socket before crossing into C++', async () => {
    await expect(Native.createSocket({ family: 4, type: 'sctp' as 'udp' })).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    await expect(Native.createSocket({ family: 4, type: 'udp', listen: true })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
  });
});
