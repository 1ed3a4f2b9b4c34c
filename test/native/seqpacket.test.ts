// SeqpacketSocket: unix SOCK_SEQPACKET with SCM_RIGHTS and SO_PEERCRED, through a real socket
// file in a temporary directory, in this process (no privileges needed).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCodes, type SystemErrorShape } from '../../common/errors';
import {
  SEQPACKET_MAX_MESSAGE,
  SeqpacketSocket,
  type SeqpacketStartOptions,
} from '../../common/native/addon';

let dir: string;
const sockets: SeqpacketSocket[] = [];
const rawFds: number[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-seqpacket-'));
});

afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
  for (const fd of rawFds.splice(0)) fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
});

function track<T extends SeqpacketSocket>(s: T): T {
  sockets.push(s);
  return s;
}

function openFd(file: string): number {
  const fd = fs.openSync(file, 'r');
  rawFds.push(fd);
  return fd;
}

/** Polls until `pred` holds (events arrive on the loop), failing after `ms`. */
async function until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** What a started connection received. */
class Inbox {
  readonly messages: Array<{ data: Buffer; fds: number[] }> = [];
  readonly errors: SystemErrorShape[] = [];
  closes: Array<SystemErrorShape | null> = [];

  constructor(sock: SeqpacketSocket, options?: SeqpacketStartOptions) {
    sock.start(
      {
        message: (data, fds) => {
          rawFds.push(...fds);
          this.messages.push({ data, fds });
        },
        error: (err) => this.errors.push(err),
        close: (err) => this.closes.push(err),
      },
      options,
    );
  }

  async count(n: number): Promise<void> {
    await until(() => this.messages.length >= n, `${n} messages (have ${this.messages.length})`);
  }
}

/** A listener, a client connected to it and the accepted end (not started). */
async function pair(): Promise<{ listener: SeqpacketSocket; client: SeqpacketSocket; server: SeqpacketSocket }> {
  const sockPath = path.join(dir, 's.sock');
  const listener = track(SeqpacketSocket.listen(sockPath, { mode: 0o600 }));
  const accepted: SeqpacketSocket[] = [];
  listener.start({ connection: (s) => accepted.push(track(s)) });
  const client = track(SeqpacketSocket.connect(sockPath));
  await until(() => accepted.length === 1, 'the accepted connection');
  return { listener, client, server: accepted[0] };
}

/** How many of this process's fds refer to `file` (by device and inode). */
function fdsReferringTo(file: string): number {
  const want = fs.statSync(file);
  let n = 0;
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      const st = fs.fstatSync(Number(name));
      if (st.dev === want.dev && st.ino === want.ino) n++;
    } catch {
      // the fd readdir itself used, already closed
    }
  }
  return n;
}

function expectSystemError(err: unknown, code: string, syscall: string): void {
  expect(err).toEqual(expect.objectContaining({ code, syscall, errno: expect.any(Number) }));
}

describe('SeqpacketSocket', () => {
  it('keeps message boundaries both ways, up to SEQPACKET_MAX_MESSAGE bytes', async () => {
    const { client, server } = await pair();
    const atServer = new Inbox(server);
    const atClient = new Inbox(client);
    const sent = [Buffer.from('a'), Buffer.alloc(1000, 'b'), Buffer.alloc(SEQPACKET_MAX_MESSAGE, 'c')];
    for (const m of sent) expect(client.send(m)).toBe(true);
    for (const m of [...sent].reverse()) server.send(m);
    await atServer.count(3);
    await atClient.count(3);
    expect(atServer.messages.map((m) => m.data)).toEqual(sent);
    expect(atClient.messages.map((m) => m.data)).toEqual([...sent].reverse());
    expect(atServer.errors).toEqual([]);
  });

  it('passes fds that refer to the same files, CLOEXEC on arrival; the sender keeps its own', async () => {
    const { client, server } = await pair();
    const inbox = new Inbox(server);
    const file = path.join(dir, 'data');
    fs.writeFileSync(file, 'x');
    const fileFd = openFd(file);
    const nsFd = openFd('/proc/self/ns/net');
    client.send(Buffer.from('two fds'), [fileFd, nsFd]);
    await inbox.count(1);
    const [got] = inbox.messages;
    expect(got.data.toString()).toBe('two fds');
    expect(got.fds).toHaveLength(2);
    got.fds.forEach((fd, i) => {
      const original = [fileFd, nsFd][i];
      expect(fd).not.toBe(original);
      const a = fs.fstatSync(fd);
      const b = fs.fstatSync(original);
      expect({ dev: a.dev, ino: a.ino }).toEqual({ dev: b.dev, ino: b.ino });
      const flags = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      expect(Number.parseInt(flags ?? '0', 8) & 0o2000000).toBe(0o2000000); // O_CLOEXEC
    });
    expect(fs.fstatSync(fileFd).isFile()).toBe(true);
  });

  it('drops a message larger than maxMessage with EMSGSIZE, closes its fds, and keeps the next one', async () => {
    const { client, server } = await pair();
    const inbox = new Inbox(server, { maxMessage: 1024 });
    const file = path.join(dir, 'data');
    fs.writeFileSync(file, 'x');
    const fd = openFd(file);
    client.send(Buffer.alloc(2000, 'z'), [fd]);
    client.send(Buffer.from('next'));
    await inbox.count(1);
    expect(inbox.messages.map((m) => m.data.toString())).toEqual(['next']);
    expect(inbox.errors).toHaveLength(1);
    expectSystemError(inbox.errors[0], 'EMSGSIZE', 'recvmsg');
    expect(inbox.errors[0].message).toContain('larger than 1024 bytes');
    expect(fdsReferringTo(file)).toBe(1); // only the sender's
    expect(server.closed).toBe(false);
  });

  it('drops a message with more fds than maxFds (MSG_CTRUNC) and closes those it got', async () => {
    const { client, server } = await pair();
    const inbox = new Inbox(server, { maxFds: 1 });
    const file = path.join(dir, 'data');
    fs.writeFileSync(file, 'x');
    const fd = openFd(file);
    client.send(Buffer.from('three'), [fd, fd, fd]);
    client.send(Buffer.from('one'), [fd]);
    await inbox.count(1);
    expect(inbox.messages.map((m) => [m.data.toString(), m.fds.length])).toEqual([['one', 1]]);
    expect(inbox.errors).toHaveLength(1);
    expectSystemError(inbox.errors[0], 'EMSGSIZE', 'recvmsg');
    expect(inbox.errors[0].message).toContain('more than 1 fds');
    expect(fdsReferringTo(file)).toBe(2); // the sender's and the one delivered with 'one'
  });

  it("reports the peer's credentials (SO_PEERCRED) on both ends", async () => {
    const { client, server } = await pair();
    const me = { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() };
    expect(server.peer).toEqual(me);
    expect(client.peer).toEqual(me);
    expect(server.path).toBe(path.join(dir, 's.sock'));
  });

  it('reports EOF to the close handler with null, once', async () => {
    const { client, server } = await pair();
    const atServer = new Inbox(server);
    const atClient = new Inbox(client);
    client.send(Buffer.from('last words'));
    client.close();
    await until(() => atServer.closes.length > 0, 'EOF at the server');
    expect(atServer.messages.map((m) => m.data.toString())).toEqual(['last words']);
    expect(atServer.closes).toEqual([null]);
    expect(server.closed).toBe(true);
    expect(atClient.closes).toEqual([]); // a local close() is not reported
  });

  it('reports ECONNRESET when the peer closed with our messages unread, after what it sent', async () => {
    const { client, server } = await pair();
    const atClient = new Inbox(client);
    client.send(Buffer.from('never read'));
    await new Promise((r) => setTimeout(r, 20));
    server.send(Buffer.from('bye'));
    server.close();
    await until(() => atClient.closes.length > 0, 'the close at the client');
    expect(atClient.messages.map((m) => m.data.toString())).toEqual(['bye']);
    expectSystemError(atClient.closes[0], 'ECONNRESET', 'recvmsg');
  });

  it('close() is idempotent; a closed socket refuses send() and start() with EBADF', async () => {
    const { client } = await pair();
    client.close();
    client.close();
    expect(client.closed).toBe(true);
    expect(client.fd).toBe(-1);
    let err: unknown;
    try {
      client.send(Buffer.from('x'));
    } catch (e) {
      err = e;
    }
    expectSystemError(err, 'EBADF', 'sendmsg');
    expect(() => client.start({ message: () => undefined })).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('queues sends behind a full socket buffer and delivers them in order', async () => {
    const { client, server } = await pair();
    const total = 64;
    const results: boolean[] = [];
    for (let i = 0; i < total; i++) results.push(client.send(Buffer.alloc(32 * 1024, i)));
    expect(results).toContain(false);
    expect(client.queued).toBeGreaterThan(0);
    const inbox = new Inbox(server);
    await inbox.count(total);
    expect(inbox.messages.map((m) => m.data[0])).toEqual([...Array(total).keys()]);
    expect(client.queued).toBe(0);
  });

  it('creates the socket file with the given mode and removes it on close', () => {
    const sockPath = path.join(dir, 'mode.sock');
    const listener = track(SeqpacketSocket.listen(sockPath, { mode: 0o600 }));
    const st = fs.statSync(sockPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    listener.close();
    expect(fs.existsSync(sockPath)).toBe(false);
  });

  it('replaces a stale socket file but refuses a live listener and a file that is not a socket', () => {
    const sockPath = path.join(dir, 'stale.sock');
    // A listener killed before it could clean up leaves its socket file behind.
    const child = spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(sockPath)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    expect(child.signal).toBe('SIGKILL');
    expect(fs.statSync(sockPath).isSocket()).toBe(true);
    const listener = track(SeqpacketSocket.listen(sockPath, { mode: 0o600 }));
    track(SeqpacketSocket.connect(sockPath));

    let err: unknown;
    try {
      SeqpacketSocket.listen(sockPath, { mode: 0o600 });
    } catch (e) {
      err = e;
    }
    expectSystemError(err, 'EADDRINUSE', 'bind');
    expect(listener.closed).toBe(false);

    const plain = path.join(dir, 'plain');
    fs.writeFileSync(plain, 'keep me');
    err = undefined;
    try {
      SeqpacketSocket.listen(plain, { mode: 0o600 });
    } catch (e) {
      err = e;
    }
    expectSystemError(err, 'EEXIST', 'bind');
    expect(fs.readFileSync(plain, 'utf8')).toBe('keep me');
  });

  it('reports connect failures as SystemErrors naming the path', () => {
    const missing = path.join(dir, 'missing.sock');
    let err: unknown;
    try {
      SeqpacketSocket.connect(missing);
    } catch (e) {
      err = e;
    }
    expectSystemError(err, 'ENOENT', 'connect');
    expect(err).toEqual(expect.objectContaining({ path: missing, message: expect.stringContaining('is the server running?') }));
  });

  // Regression: libuv called a close callback of this addon after Node had unloaded it with the
  // last worker using it (SIGSEGV). Open sockets are now closed by an async env-cleanup hook.
  it('a worker that ends with sockets open does not crash the process', () => {
    const addon = path.join(process.env.AMBIT_NATIVE_BUILD_DIR ?? path.join(__dirname, '..', '..', 'build', 'Release'), 'ambit_native.node');
    const worker = `
      const { SeqpacketSocket: S } = require(${JSON.stringify(addon)});
      const p = ${JSON.stringify(path.join(dir, 'w'))} + require('worker_threads').threadId;
      const l = new S(); l.listen(p, 0o600);
      l.start({ connection(s) { s.start({ message(d) { s.send(d); } }); } });
      const c = new S(); c.connect(p);
      c.start({ message(d) { require('worker_threads').parentPort.postMessage(d.toString()); } });
      c.send(Buffer.from('echo'));`;
    const main = `
      const { Worker } = require('worker_threads');
      let done = 0;
      for (let i = 0; i < 4; i++) {
        const w = new Worker(${JSON.stringify(worker)}, { eval: true });
        w.once('message', () => w.terminate().then(() => { if (++done === 4) console.log('all ended'); }));
      }`;
    const child = spawnSync(process.execPath, ['-e', main], { encoding: 'utf8', timeout: 20_000 });
    expect({ status: child.status, signal: child.signal, stdout: child.stdout.trim() }).toEqual({
      status: 0,
      signal: null,
      stdout: 'all ended',
    });
  });

  it('validates arguments before crossing, and the addon re-checks', async () => {
    const { client } = await pair();
    const invalid = expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT });
    expect(() => client.send(Buffer.alloc(0))).toThrow(invalid);
    expect(() => client.send(Buffer.alloc(SEQPACKET_MAX_MESSAGE + 1))).toThrow(invalid);
    expect(() => client.send(Buffer.from('x'), [-1])).toThrow(invalid);
    expect(() => SeqpacketSocket.connect(path.join(dir, 'x'.repeat(120)))).toThrow(invalid);
    expect(() => SeqpacketSocket.listen(path.join(dir, 'm.sock'), { mode: 0o1777 })).toThrow(invalid);
    expect(() => client.start({ message: () => undefined }, { maxMessage: 0 })).toThrow(invalid);
    // An fd number that passes the TS check but is not open: the addon names it.
    const fd = fs.openSync('/dev/null', 'r');
    fs.closeSync(fd);
    expect(() => client.send(Buffer.from('x'), [fd])).toThrow(
      expect.objectContaining({ code: 'EBADF', message: expect.stringContaining('fds[0]') }),
    );
    client.start({ message: () => undefined });
    expect(() => client.start({ message: () => undefined })).toThrow(expect.objectContaining({ code: 'EALREADY' }));
  });
});
