/**
 * The enrollment protocol end to end: EnrollmentServer + EnrollmentClient over a real
 * SOCK_SEQPACKET socket file, and raw messages through the native socket for what the client
 * library would never send. Root is needed because the server only talks to root peers.
 * The netns fd is this process's own (/proc/self/ns/net): the handler here attaches nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CniPodResolver, type WorkloadSource } from '../../agent/enrollment/cni-pod-resolver';
import { EnrollmentServer } from '../../agent/enrollment/enrollment-server';
import { EnrollmentClient } from '../../common/enrollment/client';
import { EnrollmentError, EnrollmentErrorCodes } from '../../common/enrollment/errors';
import { AmbitError, ErrorCodes } from '../../common/errors';
import { SeqpacketSocket } from '../../common/native/addon';
import { requirePrivileged } from '../harness';
import { RecordingHandler, capturingLogger, fdsReferringTo, pod, sleep, tempDir } from './enrollment-fixtures';

jest.setTimeout(30_000);

const NETNS = '/proc/self/ns/net';

let dir: string;
let socketPath: string;
let handler: RecordingHandler;
let server: EnrollmentServer;
let nsFd: number;
const clients: EnrollmentClient[] = [];
const raws: SeqpacketSocket[] = [];

beforeAll(() => requirePrivileged());

beforeEach(() => {
  dir = tempDir('ambit-enroll-');
  socketPath = path.join(dir, 'enroll.sock');
  handler = new RecordingHandler();
  server = new EnrollmentServer({ socketPath, handler, logger: capturingLogger().logger, node: 'node-a' });
  server.listen();
  nsFd = fs.openSync(NETNS, 'r');
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of raws.splice(0)) r.close();
  await server.close();
  fs.closeSync(nsFd);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function connect(timeoutMs?: number): Promise<EnrollmentClient> {
  const c = await EnrollmentClient.connect(socketPath, { client: 'test', timeoutMs });
  clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<EnrollmentError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(EnrollmentError);
    return err as EnrollmentError;
  }
  throw new Error('expected a rejection');
}

/** A raw connection: sends JSON (or bytes) with fds, collects the agent's answers. */
class Raw {
  readonly answers: Array<Record<string, unknown>> = [];
  ended = false;
  private readonly sock: SeqpacketSocket;

  constructor() {
    this.sock = SeqpacketSocket.connect(socketPath);
    raws.push(this.sock);
    this.sock.start({
      message: (data) => this.answers.push(JSON.parse(data.toString()) as Record<string, unknown>),
      close: () => (this.ended = true),
    });
  }

  send(msg: unknown, fds: number[] = []): void {
    this.sock.send(Buffer.isBuffer(msg) ? msg : Buffer.from(JSON.stringify(msg)), fds);
  }

  async next(): Promise<Record<string, unknown>> {
    const n = this.answers.length;
    for (let i = 0; i < 500 && this.answers.length === n; i++) await sleep(5);
    if (this.answers.length === n) throw new Error('no answer from the agent');
    return this.answers[n];
  }

  async ask(msg: unknown, fds: number[] = []): Promise<Record<string, unknown>> {
    const answer = this.next();
    this.send(msg, fds);
    return answer;
  }

  async hello(): Promise<void> {
    expect(await this.ask({ type: 'hello', version: 1, client: 'raw' })).toEqual({ type: 'hello', version: 1, node: 'node-a' });
  }
}

describe('enrollment server and client', () => {
  it('listens on a 0600 socket file, answers hello with the node name, and removes the file on close', async () => {
    const st = fs.statSync(socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    const c = await connect();
    expect(c.node).toBe('node-a');
    await server.close();
    expect(fs.existsSync(socketPath)).toBe(false);
    expect(await c.whenClosed()).toEqual(expect.objectContaining({ code: EnrollmentErrorCodes.CLOSED }));
  });

  it('a snapshot removes the pods it neither added nor kept', async () => {
    const first = await connect();
    for (const uid of ['a', 'b', 'c']) await first.add(pod(uid), nsFd);
    first.close();

    const second = await connect();
    await second.keep('a');
    await second.add(pod('d'), nsFd);
    const unknown = await rejection(second.keep('x'));
    expect(unknown).toMatchObject({ code: EnrollmentErrorCodes.UNKNOWN_POD, reason: expect.stringContaining('send add') });
    expect(handler.pods.size).toBe(4); // nothing removed before snapshot_sent
    await second.snapshotSent();
    expect(handler.snapshots).toEqual([['a', 'd']]);
    expect([...handler.pods.keys()].sort()).toEqual(['a', 'd']);
    expect([...server.enrolledUids()].sort()).toEqual(['a', 'd']);

    // Incremental from now on.
    expect(await rejection(second.keep('a'))).toMatchObject({ code: EnrollmentErrorCodes.SEQUENCE });
    expect(await rejection(second.snapshotSent())).toMatchObject({ code: EnrollmentErrorCodes.SEQUENCE });
    await second.del('d');
    await second.add(pod('e'), nsFd);
    expect([...handler.pods.keys()].sort()).toEqual(['a', 'e']);
  });

  it("acks an add only once the handler resolved, and handles one client's messages in order", async () => {
    const c = await connect();
    handler.addDelayMs = 200;
    const started = Date.now();
    const add = c.add(pod('slow'), nsFd).then(() => handler.events.push('acked slow'));
    const del = c.del('fast').then(() => handler.events.push('acked fast'));
    await Promise.all([add, del]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const at = (e: string) => handler.events.indexOf(e);
    // The handler saw the del only after the add was done, and the add was acked only after that.
    expect(handler.events.filter((e) => !e.startsWith('acked'))).toEqual(['add-start slow', 'add-done slow', 'del fast']);
    expect(at('acked slow')).toBeGreaterThan(at('add-done slow'));
    expect(at('acked fast')).toBeGreaterThan(at('acked slow'));
  });

  it('hands the handler the pod netns and closes the fd once add settled', async () => {
    const c = await connect();
    const before = fdsReferringTo(NETNS);
    await c.add(pod('a'), nsFd);
    const ns = fs.statSync(NETNS);
    expect(handler.netns).toEqual([{ id: `${ns.dev}:${ns.ino}`, openDuringAdd: before + 1 }]);
    expect(fdsReferringTo(NETNS)).toBe(before);
  });

  it("nacks with the handler's code and message when add fails, closes the fd, and goes on", async () => {
    const c = await connect();
    const before = fdsReferringTo(NETNS);
    handler.addError = new AmbitError(ErrorCodes.POD_LIMIT, 'no pod slot left on this node');
    expect(await rejection(c.add(pod('a'), nsFd))).toMatchObject({
      code: ErrorCodes.POD_LIMIT,
      reason: 'no pod slot left on this node',
      id: expect.any(String),
    });
    handler.addError = new Error('something broke');
    expect(await rejection(c.add(pod('b'), nsFd))).toMatchObject({ code: EnrollmentErrorCodes.FAILED, reason: 'something broke' });
    expect(fdsReferringTo(NETNS)).toBe(before);
    expect(server.enrolledUids().size).toBe(0);
    handler.addError = undefined;
    await c.add(pod('c'), nsFd);
    expect([...handler.pods.keys()]).toEqual(['c']);
  });

  it('refuses malformed messages with a nack naming the field, closing the fds they carried', async () => {
    const raw = new Raw();
    await raw.hello();
    const before = fdsReferringTo(NETNS);
    const plain = path.join(dir, 'plain');
    fs.writeFileSync(plain, 'x');
    const fileFd = fs.openSync(plain, 'r');
    const nack = (id: string | null, reason: RegExp | string) =>
      expect.objectContaining({ type: 'nack', id, code: EnrollmentErrorCodes.PROTOCOL, reason: expect.stringMatching(reason) });
    const { uid: _uid, ...noUid } = pod('a');
    try {
      expect(await raw.ask(Buffer.from('{not json'))).toEqual(nack(null, /^message is not JSON/));
      expect(await raw.ask({ type: 'frobnicate', id: '1' })).toEqual(nack('1', /type 'frobnicate' is unknown/));
      expect(await raw.ask({ type: 'add', id: '2', pod: noUid }, [nsFd])).toEqual(nack('2', /add\.pod is missing the field 'uid'/));
      expect(await raw.ask({ type: 'add', id: '3', pod: pod('a', { ips: ['nope'] }) }, [nsFd])).toEqual(
        nack('3', /add\.pod\.ips\[0\] must be an IPv4 or IPv6 address/),
      );
      expect(await raw.ask({ type: 'add', id: '4', pod: pod('a') })).toEqual(nack('4', /exactly one fd, got 0/));
      expect(await raw.ask({ type: 'add', id: '5', pod: pod('a') }, [nsFd, nsFd])).toEqual(nack('5', /exactly one fd, got 2/));
      expect(await raw.ask({ type: 'keep', id: '6', uid: 'a' }, [nsFd])).toEqual(nack('6', /keep carries no fds, got 1/));
      expect(await raw.ask({ type: 'del', id: '7', uid: 'a', extra: 1 })).toEqual(nack('7', /unknown field 'extra'/));
      expect(await raw.ask({ type: 'del', id: '8', uid: '' })).toEqual(nack('8', /del\.uid must be a non-empty string/));
      expect(await raw.ask({ type: 'add', id: '9', pod: pod('a') }, [fileFd])).toEqual(nack('9', /not a network namespace/));
      expect(fdsReferringTo(NETNS)).toBe(before);
      expect(fdsReferringTo(plain)).toBe(1); // the test's own
      expect(handler.events).toEqual([]);
      // The session survives refusals.
      expect(await raw.ask({ type: 'del', id: '10', uid: 'a' })).toEqual({ type: 'ack', id: '10' });
      expect(raw.ended).toBe(false);
    } finally {
      fs.closeSync(fileFd);
    }
  });

  it('refuses anything before hello, and a protocol version it does not speak, then closes', async () => {
    const early = new Raw();
    expect(await early.ask({ type: 'del', id: '1', uid: 'a' })).toEqual(
      expect.objectContaining({ type: 'nack', id: '1', code: EnrollmentErrorCodes.SEQUENCE, reason: expect.stringContaining('hello must be the first') }),
    );
    const garbage = new Raw();
    expect(await garbage.ask(Buffer.from('hello?'))).toEqual(expect.objectContaining({ type: 'nack', id: null }));
    const future = new Raw();
    expect(await future.ask({ type: 'hello', version: 2, client: 'future' })).toEqual(
      expect.objectContaining({ type: 'nack', id: null, code: EnrollmentErrorCodes.VERSION }),
    );
    for (const r of [early, garbage, future]) {
      for (let i = 0; i < 200 && !r.ended; i++) await sleep(5);
      expect(r.ended).toBe(true);
    }
    expect(handler.events).toEqual([]);
  });

  it('rejects a request the agent does not answer in time, and ignores the late answer', async () => {
    const c = await connect(150);
    let open!: () => void;
    handler.addGate = new Promise<void>((r) => (open = r));
    expect(await rejection(c.add(pod('a'), nsFd))).toMatchObject({ code: EnrollmentErrorCodes.TIMEOUT });
    open();
    handler.addGate = undefined;
    await c.keep('a'); // the add completed after all; its late ack was dropped
    expect(c.closed).toBe(false);
  });

  it('keeps snapshot state per session', async () => {
    const one = await connect();
    const two = await connect();
    await one.add(pod('a'), nsFd);
    await two.add(pod('b'), nsFd);
    await two.snapshotSent();
    expect(handler.snapshots).toEqual([['b']]);
    expect(await rejection(two.keep('b'))).toMatchObject({ code: EnrollmentErrorCodes.SEQUENCE });
    await one.keep('b'); // the first session is still in its snapshot
  });

  it('close() waits for the handler call in flight; the client then sees CLOSED', async () => {
    const c = await connect();
    let open!: () => void;
    handler.addGate = new Promise<void>((r) => (open = r));
    const add = rejection(c.add(pod('a'), nsFd));
    await sleep(50);
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    expect(fs.existsSync(socketPath)).toBe(false);
    await sleep(50);
    expect(closed).toBe(false);
    open();
    await closing;
    expect(handler.events).toEqual(['add-start a', 'add-done a']);
    expect(await add).toMatchObject({ code: EnrollmentErrorCodes.CLOSED });
  });
});

describe('CNI sandboxes: a pod uid outlives its sandbox', () => {
  const ambient: WorkloadSource = {
    node: 'node-a',
    version: () => '1',
    podWorkload: () => ({ serviceAccount: 'sa', node: 'node-a', protocol: 'HBONE', isWaypoint: false }),
    onConfig: () => () => undefined,
  };
  const cniPod = (uid: string): Omit<ReturnType<typeof pod>, 'serviceAccount'> => {
    const { serviceAccount: _identityFromConfig, ...p } = pod(uid);
    return p;
  };

  beforeEach(async () => {
    await server.close();
    server = new EnrollmentServer({ socketPath, handler, logger: capturingLogger().logger, node: 'node-a', cni: new CniPodResolver(ambient, 50) });
  });

  it('regression: a late del naming a replaced sandbox is acked and leaves the pod enrolled; a del naming its sandbox takes it out', async () => {
    server.listen();
    const raw = new Raw();
    await raw.hello();
    expect(await raw.ask({ type: 'cni_add', id: '1', pod: cniPod('a'), sandbox: 'sandbox-new' }, [nsFd])).toEqual({ type: 'ack', id: '1' });
    expect(await raw.ask({ type: 'del', id: '2', uid: 'a', sandbox: 'sandbox-old' })).toEqual({ type: 'ack', id: '2' });
    expect([...handler.pods.keys()]).toEqual(['a']);
    expect(handler.events).toEqual(['add-start a', 'add-done a']);
    expect(await raw.ask({ type: 'del', id: '3', uid: 'a', sandbox: 'sandbox-new' })).toEqual({ type: 'ack', id: '3' });
    expect(handler.pods.size).toBe(0);
    // A del that names no sandbox (ambit local) is not judged.
    expect(await raw.ask({ type: 'cni_add', id: '4', pod: cniPod('b'), sandbox: 's1' }, [nsFd])).toEqual({ type: 'ack', id: '4' });
    expect(await raw.ask({ type: 'del', id: '5', uid: 'b' })).toEqual({ type: 'ack', id: '5' });
    expect(handler.pods.size).toBe(0);
    expect(await raw.ask({ type: 'del', id: '6', uid: 'b', sandbox: '' })).toEqual(
      expect.objectContaining({ type: 'nack', id: '6', code: EnrollmentErrorCodes.PROTOCOL, reason: expect.stringMatching(/del\.sandbox must be a non-empty string/) }),
    );
  });

  it('a cni_add naming another sandbox than the enrolled one replaces it (the old one out first)', async () => {
    server.listen();
    const raw = new Raw();
    await raw.hello();
    expect(await raw.ask({ type: 'cni_add', id: '1', pod: cniPod('a'), sandbox: 's1' }, [nsFd])).toEqual({ type: 'ack', id: '1' });
    expect(await raw.ask({ type: 'cni_add', id: '2', pod: cniPod('a'), sandbox: 's1' }, [nsFd])).toEqual({ type: 'ack', id: '2' });
    // The same sandbox again is a repeated add (the registry changes nothing), not a replacement.
    expect(handler.events).not.toContain('del a');
    handler.events.length = 0;
    expect(await raw.ask({ type: 'cni_add', id: '3', pod: cniPod('a'), sandbox: 's2' }, [nsFd])).toEqual({ type: 'ack', id: '3' });
    expect(handler.events).toEqual(['del a', 'add-start a', 'add-done a']);
    expect(await raw.ask({ type: 'del', id: '4', uid: 'a', sandbox: 's1' })).toEqual({ type: 'ack', id: '4' });
    expect([...handler.pods.keys()]).toEqual(['a']);
  });

  it('a recorded pod the agent could not re-enroll is settled by the CNI del of its sandbox; then the snapshot is done', async () => {
    const records = path.join(dir, 'records');
    fs.mkdirSync(records);
    const file = path.join(records, 'a.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ ...cniPod('a'), version: 1, containerId: 'sandbox-a', netns: '/proc/999999999/ns/net', netnsInode: '4:4026532000' }),
    );
    const found = await server.reenrollRecorded(records);
    expect(found.unknown).toEqual([{ pod: 'default/pod-a', reason: expect.stringContaining('hostPID') }]);
    expect(handler.snapshots).toEqual([]);
    server.listen();
    const raw = new Raw();
    await raw.hello();
    // A late del of an older sandbox says nothing about this one.
    expect(await raw.ask({ type: 'del', id: '1', uid: 'a', sandbox: 'sandbox-older' })).toEqual({ type: 'ack', id: '1' });
    // A repeated ADD of the recorded sandbox that fails settles nothing: the pod may run on.
    handler.addError = new AmbitError(ErrorCodes.ENROLL, 'capture failed');
    expect(await raw.ask({ type: 'cni_add', id: '1b', pod: cniPod('a'), sandbox: 'sandbox-a' }, [nsFd])).toMatchObject({ type: 'nack', id: '1b' });
    handler.addError = undefined;
    await sleep(50);
    expect(handler.snapshots).toEqual([]);
    expect(server.waitingFor()).toMatch(/default\/pod-a: network namespace not visible/);
    expect(await raw.ask({ type: 'del', id: '2', uid: 'a', sandbox: 'sandbox-a' })).toEqual({ type: 'ack', id: '2' });
    for (let i = 0; i < 100 && handler.snapshots.length === 0; i++) await sleep(10);
    expect(handler.snapshots).toEqual([[]]);
    expect(server.waitingFor()).toBeUndefined();
  });
});
