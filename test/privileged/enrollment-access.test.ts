/**
 * Who may talk to the enrollment socket, and what a restart finds on disk. A non-root client (a
 * child Node process that dropped to uid/gid 65534) is stopped by the socket file's 0600 mode and,
 * with the mode loosened on purpose, by the server's SO_PEERCRED check. An agent that died leaves
 * its socket file: the next one replaces it; a live agent's socket is never stolen.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EnrollmentServer } from '../../agent/enrollment/enrollment-server';
import { EnrollmentClient } from '../../common/enrollment/client';
import { EnrollmentErrorCodes } from '../../common/enrollment/errors';
import { silentLogger } from '../../common/log';
import { requirePrivileged } from '../harness';
import { ROOT, RecordingHandler, capturingLogger, runScript, tempDir, type Child } from './enrollment-fixtures';

jest.setTimeout(60_000);

const NOBODY = 65534;
const ADDON = path.join(ROOT, 'common', 'native', 'addon.ts');
const CLIENT = path.join(ROOT, 'common', 'enrollment', 'client.ts');
const SERVER = path.join(ROOT, 'agent', 'enrollment', 'enrollment-server.ts');
const LOG = path.join(ROOT, 'common', 'log.ts');

let dir: string;
let socketPath: string;
const servers: EnrollmentServer[] = [];
const clients: EnrollmentClient[] = [];
const children: Child[] = [];

beforeAll(() => requirePrivileged());

beforeEach(() => {
  dir = tempDir('ambit-enroll-access-');
  socketPath = path.join(dir, 'enroll.sock');
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await c.exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function startServer(handler = new RecordingHandler(), logger = silentLogger): EnrollmentServer {
  const server = new EnrollmentServer({ socketPath, handler, logger, node: 'node-a' });
  server.listen();
  servers.push(server);
  return server;
}

/** Connects as uid/gid 65534 from a child process; returns how that ended. */
async function connectAsNobody(): Promise<{ code?: string; reason?: string; cause?: string | null; uid?: number; ok?: boolean }> {
  const child = runScript(`
    const { Native } = require(${JSON.stringify(ADDON)});
    const { EnrollmentClient } = require(${JSON.stringify(CLIENT)});
    Native.abiLayout(); // loads the addon while still root
    process.setgroups([]);
    process.setgid(${NOBODY});
    process.setuid(${NOBODY});
    EnrollmentClient.connect(${JSON.stringify(socketPath)}, { client: 'intruder', timeoutMs: 5000 }).then(
      (c) => { console.log(JSON.stringify({ ok: true })); c.close(); },
      (e) => console.log(JSON.stringify({ code: e.code, reason: e.reason, cause: e.cause ? e.cause.code : null, uid: process.getuid() })),
    );
  `);
  children.push(child);
  const { stdout, stderr } = await child.exited;
  if (!stdout.trim()) throw new Error(`the child printed nothing; stderr:\n${stderr}`);
  return JSON.parse(stdout.trim().split('\n')[0]) as { code?: string };
}

describe('enrollment socket access', () => {
  it('a non-root client is stopped by the socket file mode (EACCES)', async () => {
    const handler = new RecordingHandler();
    startServer(handler);
    expect(fs.statSync(socketPath).mode & 0o777).toBe(0o600);
    const result = await connectAsNobody();
    expect(result).toEqual({ code: EnrollmentErrorCodes.FORBIDDEN, reason: expect.stringContaining('EACCES'), cause: 'EACCES', uid: NOBODY });
    expect(handler.events).toEqual([]);
  });

  it('with the file mode loosened, the SO_PEERCRED check still refuses a non-root client', async () => {
    const handler = new RecordingHandler();
    const { logger, lines } = capturingLogger();
    startServer(handler, logger);
    fs.chmodSync(socketPath, 0o666);
    const result = await connectAsNobody();
    expect(result).toEqual({
      code: EnrollmentErrorCodes.FORBIDDEN,
      reason: expect.stringContaining(`needs root; refused uid ${NOBODY}`),
      cause: null,
      uid: NOBODY,
    });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', peerUid: NOBODY, msg: 'refused an enrollment client that is not root' }),
    );
    expect(handler.events).toEqual([]);
    // Root still gets in.
    const c = await EnrollmentClient.connect(socketPath, { client: 'root' });
    clients.push(c);
    expect(c.node).toBe('node-a');
  });

  it('a restarted agent replaces the socket file its dead predecessor left', async () => {
    const old = runScript(`
      const { EnrollmentServer } = require(${JSON.stringify(SERVER)});
      const { silentLogger } = require(${JSON.stringify(LOG)});
      const noop = async () => {};
      new EnrollmentServer({ socketPath: ${JSON.stringify(socketPath)}, node: 'old',
        handler: { add: noop, del: noop, snapshotDone: noop }, logger: silentLogger }).listen();
      console.log('ready');
    `);
    children.push(old);
    expect(await old.firstLine).toBe('ready');
    const before = await EnrollmentClient.connect(socketPath, { client: 'test' });
    expect(before.node).toBe('old');
    old.proc.kill('SIGKILL');
    expect(await before.whenClosed()).toMatchObject({ code: EnrollmentErrorCodes.CLOSED });
    expect((await old.exited).signal).toBe('SIGKILL'); // all its fds are closed now
    expect(fs.statSync(socketPath).isSocket()).toBe(true); // stale: nobody listens

    const unavailable = await EnrollmentClient.connect(socketPath, { client: 'test' }).catch((e: unknown) => e);
    expect(unavailable).toMatchObject({ code: EnrollmentErrorCodes.UNAVAILABLE });

    startServer();
    expect(fs.statSync(socketPath).mode & 0o777).toBe(0o600);
    const after = await EnrollmentClient.connect(socketPath, { client: 'test' });
    clients.push(after);
    expect(after.node).toBe('node-a');
  });

  it("never takes over a live agent's socket, nor a file that is not a socket", async () => {
    startServer();
    const second = new EnrollmentServer({ socketPath, handler: new RecordingHandler(), logger: silentLogger, node: 'b' });
    expect(() => second.listen()).toThrow(expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind', path: socketPath }));
    const c = await EnrollmentClient.connect(socketPath, { client: 'test' });
    clients.push(c);
    expect(c.node).toBe('node-a'); // the first one still serves

    const plain = path.join(dir, 'not-a-socket');
    fs.writeFileSync(plain, 'keep');
    const third = new EnrollmentServer({ socketPath: plain, handler: new RecordingHandler(), logger: silentLogger, node: 'c' });
    expect(() => third.listen()).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(fs.readFileSync(plain, 'utf8')).toBe('keep');
  });
});
