// ambit-cni (build/Release/ambit-cni) against a stand-in agent: a SOCK_SEQPACKET listener in this
// process that reads the plugin's messages with the agent's own parser (so the plugin speaks
// exactly the agent's protocol) and answers as the test says. Also the plugin's reading of the
// network config. No privileges: the pod netns is the plugin's own, the pod cgroup a plain
// directory named like the kubelet names one.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeMessage, parseClientMessage, type AgentMessage, type ClientMessage } from '../../common/enrollment/protocol';
import { SeqpacketSocket } from '../../common/native/addon';

const PLUGIN = path.resolve(__dirname, '..', '..', 'build', 'Release', 'ambit-cni');
const UID = '5d1f1a0e-2b7c-4e55-8f4e-0a0b0c0d0e0f';

let dir: string;
let listener: SeqpacketSocket | undefined;
const peers: SeqpacketSocket[] = [];

beforeAll(() => {
  if (!fs.existsSync(PLUGIN)) throw new Error(`${PLUGIN} is missing: build it with npm run build:native (or npm run setup)`);
});

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-cni-native-'));
  fs.mkdirSync(path.join(dir, 'cgroup', 'kubepods', 'besteffort', `pod${UID}`), { recursive: true });
});

afterEach(() => {
  for (const p of peers.splice(0)) p.close();
  listener?.close();
  listener = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Received {
  msg: ClientMessage;
  /** st_dev:st_ino of each fd that came with it (closed right away). */
  fds: string[];
}

/**
 * A stand-in agent: answers hello, then each request with `answer(msg)` (undefined: silence).
 * `holdHello(client)` may return a promise the hello answer then waits for.
 */
function fakeAgent(
  answer: (msg: ClientMessage) => AgentMessage | undefined,
  holdHello: (client: string) => Promise<void> | undefined = () => undefined,
): Received[] {
  const received: Received[] = [];
  const socketPath = path.join(dir, 'enrollment.sock');
  listener = SeqpacketSocket.listen(socketPath, { mode: 0o600 });
  listener.start({
    connection: (peer) => {
      peers.push(peer);
      peer.start({
        message: (data, fds) => {
          const ids = fds.map((fd) => {
            const st = fs.fstatSync(fd, { bigint: true });
            fs.closeSync(fd);
            return `${st.dev}:${st.ino}`;
          });
          const msg = parseClientMessage(data, fds.length);
          received.push({ msg, fds: ids });
          if (msg.type === 'hello') {
            const hello = encodeMessage({ type: 'hello', version: 1, node: 'node-a' });
            const hold = holdHello(msg.client);
            if (hold === undefined) peer.send(hello);
            else void hold.then(() => peer.send(hello));
            return;
          }
          const reply = answer(msg);
          if (reply) peer.send(encodeMessage(reply));
        },
      });
    },
  });
  return received;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(env: Record<string, string>, stdin: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PLUGIN, [], { env: { PATH: '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

const addEnv = (ns = 'shop', name = 'cart-7d9f'): Record<string, string> => ({
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'c0ffee',
  CNI_NETNS: '/proc/self/ns/net',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
  CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=${name};K8S_POD_INFRA_CONTAINER_ID=c0ffee;K8S_POD_UID=${UID}`,
});

/** A prevResult as the main plugin writes it, with spacing and escapes a re-encoder would change. */
const PREV = '{ "cniVersion" : "1.1.0",\n  "interfaces": [{"name":"eth0","sandbox":"/var/run/netns/cni-1","mac":"0a:58:0a:f4:01:07"}],\n  "ips": [ {"address":"10.244.1.7/24","gateway":"10.244.1.1","interface":0}, {"address":"fd00:10:244:1::7/64","interface":0},{"address":"10.244.1.7/32"} ],\n  "dns": {"search": ["caf\\u00e9.example", "x\\/y"]}, "extra": 1.5e3 }';

const conf = (extra = ''): string =>
  `{"cniVersion":"1.1.0","name":"k8s","type":"ambit-cni","socketPath":${JSON.stringify(path.join(dir, 'enrollment.sock'))},` +
  `"recordDir":${JSON.stringify(path.join(dir, 'records'))},"podCgroupRoot":${JSON.stringify(path.join(dir, 'cgroup'))},"timeoutMs":3000${extra},"prevResult":${PREV}}`;

describe('ambit-cni speaks the agent enrollment protocol', () => {
  it('sends hello, then cni_add with the pod (CNI_ARGS, cgroup, prevResult IPs) and its netns fd; passes prevResult on byte for byte', async () => {
    const received = fakeAgent((msg) => ({ type: 'ack', id: (msg as { id: string }).id }));
    const r = await run(addEnv(), conf());
    expect(r).toEqual({ code: 0, stdout: `${PREV}\n`, stderr: '' });
    const self = fs.statSync('/proc/self/ns/net', { bigint: true }); // the same netns as the plugin's
    expect(received).toEqual([
      { msg: { type: 'hello', version: 1, client: 'ambit-cni ADD shop/cart-7d9f' }, fds: [] },
      {
        msg: {
          type: 'cni_add',
          id: '1',
          pod: {
            uid: UID,
            name: 'cart-7d9f',
            namespace: 'shop',
            cgroupPath: path.join(dir, 'cgroup', 'kubepods', 'besteffort', `pod${UID}`),
            ips: ['10.244.1.7', 'fd00:10:244:1::7'],
          },
          sandbox: 'c0ffee',
        },
        fds: [`${self.dev}:${self.ino}`],
      },
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'records', `${UID}.json`), 'utf8'))).toMatchObject({ uid: UID, containerId: 'c0ffee' });
  });

  it('not_ambient: prevResult on, no record', async () => {
    fakeAgent((msg) => ({ type: 'not_ambient', id: (msg as { id: string }).id, reason: 'pod shop/cart-7d9f is not ambient' }));
    const r = await run(addEnv(), conf());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${PREV}\n`);
    expect(fs.readdirSync(path.join(dir, 'records'))).toEqual([]);
  });

  it('a nack is a CNI error carrying the agent code and reason; UNKNOWN_WORKLOAD is "try again later"', async () => {
    let code = 'EADDRINUSE';
    fakeAgent((msg) => ({ type: 'nack', id: (msg as { id: string }).id, code, reason: 'port 15001 is taken in the pod' }));
    const refused = await run(addEnv(), conf());
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toEqual({
      cniVersion: '1.1.0',
      code: 100,
      msg: 'the ambit agent did not enroll pod shop/cart-7d9f',
      details: 'EADDRINUSE: port 15001 is taken in the pod',
    });
    code = 'AMBIT_ERR_ENROLL_UNKNOWN_WORKLOAD';
    expect(JSON.parse((await run(addEnv(), conf())).stdout)).toMatchObject({ code: 11 });
    expect(fs.readdirSync(path.join(dir, 'records'))).toEqual([]);
  });

  it('DEL sends del with the uid and the recorded sandbox, and removes the record (no lock file is left)', async () => {
    const received = fakeAgent((msg) => ({ type: 'ack', id: (msg as { id: string }).id }));
    expect((await run(addEnv(), conf())).code).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'records'))).toEqual([`${UID}.json`]);
    const del = await run({ ...addEnv(), CNI_COMMAND: 'DEL' }, conf());
    expect(del).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(received.slice(-1)[0].msg).toEqual({ type: 'del', id: '1', uid: UID, sandbox: 'c0ffee' });
    expect(fs.readdirSync(path.join(dir, 'records'))).toEqual([]);
    // With no record (DEL repeated), the del still names the sandbox it is about.
    expect((await run({ ...addEnv(), CNI_COMMAND: 'DEL' }, conf())).code).toBe(0);
    expect(received.slice(-1)[0].msg).toEqual({ type: 'del', id: '1', uid: UID, sandbox: 'c0ffee' });
  });

  it('regression: a late DEL of an old sandbox that read the record before the new sandbox\'s ADD cannot take the new one out', async () => {
    // The stand-in keeps what the agent keeps: the sandbox the pod is enrolled with, and a del
    // that names no sandbox (or that one) takes it out.
    let enrolled: string | undefined;
    let releaseDel!: () => void;
    const delHeld = new Promise<void>((r) => (releaseDel = r));
    const received = fakeAgent(
      (msg) => {
        if (msg.type === 'cni_add') enrolled = msg.sandbox ?? '(unnamed)';
        if (msg.type === 'del' && (msg.sandbox === undefined || msg.sandbox === enrolled)) enrolled = undefined;
        return { type: 'ack', id: (msg as { id: string }).id };
      },
      (client) => (client.startsWith('ambit-cni DEL') ? delHeld : undefined),
    );
    const env = (command: string, sandbox: string): Record<string, string> => ({ ...addEnv(), CNI_COMMAND: command, CNI_CONTAINERID: sandbox });
    expect((await run(env('ADD', 'sandbox-old'), conf())).code).toBe(0);
    expect(enrolled).toBeDefined();

    // The old sandbox's DEL has read the record (it names sandbox-old) and is connecting...
    const lateDel = run(env('DEL', 'sandbox-old'), conf());
    while (!received.some((r) => r.msg.type === 'hello' && r.msg.client.startsWith('ambit-cni DEL'))) await new Promise((r) => setTimeout(r, 10));
    // ...when the new sandbox's ADD starts. It waits for the DEL (the record lock).
    const add = run(env('ADD', 'sandbox-new'), conf());
    await new Promise((r) => setTimeout(r, 500));
    releaseDel();
    expect(await lateDel).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await add).toEqual({ code: 0, stdout: `${PREV}\n`, stderr: '' });

    expect(enrolled).toBe('sandbox-new');
    const order = received.filter((r) => r.msg.type !== 'hello').map((r) => `${r.msg.type} ${(r.msg as { sandbox?: string }).sandbox}`);
    expect(order).toEqual(['cni_add sandbox-old', 'del sandbox-old', 'cni_add sandbox-new']);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'records', `${UID}.json`), 'utf8'))).toMatchObject({ containerId: 'sandbox-new' });
    expect(fs.readdirSync(path.join(dir, 'records'))).toEqual([`${UID}.json`]);
  });

  it('ADD replacing a recorded sandbox dels that sandbox by name first; GC dels the stale sandbox by name', async () => {
    const received = fakeAgent((msg) => ({ type: 'ack', id: (msg as { id: string }).id }));
    expect((await run({ ...addEnv(), CNI_CONTAINERID: 'sandbox-1' }, conf())).code).toBe(0);
    expect((await run({ ...addEnv(), CNI_CONTAINERID: 'sandbox-2' }, conf())).code).toBe(0);
    expect(received.slice(-2).map((r) => r.msg)).toEqual([
      { type: 'del', id: '1', uid: UID, sandbox: 'sandbox-1' },
      expect.objectContaining({ type: 'cni_add', id: '2', sandbox: 'sandbox-2' }),
    ]);
    const gc = `{"cniVersion":"1.1.0","name":"k8s","type":"ambit-cni","socketPath":${JSON.stringify(path.join(dir, 'enrollment.sock'))},` +
      `"recordDir":${JSON.stringify(path.join(dir, 'records'))},"cni.dev/valid-attachments":[{"containerID":"other","ifname":"eth0"}]}`;
    expect(await run({ CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }, gc)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(received.slice(-1)[0].msg).toEqual({ type: 'del', id: '1', uid: UID, sandbox: 'sandbox-2' });
    expect(fs.readdirSync(path.join(dir, 'records'))).toEqual([]);
  });

  it('ADD to an agent that accepts but never answers the request: code 11 after timeoutMs', async () => {
    fakeAgent(() => undefined);
    const started = Date.now();
    const r = await run(addEnv(), conf().replace('"timeoutMs":3000', '"timeoutMs":500'));
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 11, msg: expect.stringContaining('did not answer cni_add') });
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('ambit-cni reads the network config', () => {
  it('an excluded namespace passes prevResult on without an agent', async () => {
    const r = await run(addEnv('kube-system', 'coredns-1'), conf());
    expect(r).toEqual({ code: 0, stdout: `${PREV}\n`, stderr: '' });
    const custom = await run(addEnv('ops', 'x'), conf(',"excludeNamespaces":["ops"]'));
    expect(custom.stdout).toBe(`${PREV}\n`);
  });

  it.each([
    ['not JSON', 6, '{"cniVersion":"1.0.0",'],
    ['a string with a raw control character', 6, '{"cniVersion":"1.0.0","name":"a\u0001"}'],
    ['nested 100 deep', 6, `{"cniVersion":"1.0.0","x":${'['.repeat(100)}${']'.repeat(100)}}`],
    ['trailing garbage', 6, '{"cniVersion":"1.0.0"} x'],
    ['an unsupported version', 1, '{"cniVersion":"0.3.1","name":"k8s"}'],
    ['no cniVersion', 7, '{"name":"k8s"}'],
    ['excludeNamespaces of numbers', 7, '{"cniVersion":"1.0.0","excludeNamespaces":[1]}'],
    ['a relative socketPath', 7, '{"cniVersion":"1.0.0","socketPath":"enroll.sock"}'],
  ])('%s: CNI error %d', async (_what, code, stdin) => {
    const r = await run(addEnv(), stdin);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ code, msg: expect.any(String) });
  });

  it('no CNI_COMMAND: error 4; an unknown one: error 4', async () => {
    expect(JSON.parse((await run({}, '{}')).stdout)).toMatchObject({ code: 4 });
    expect(JSON.parse((await run({ ...addEnv(), CNI_COMMAND: 'FROB' }, conf())).stdout)).toMatchObject({ code: 4, msg: 'unknown CNI_COMMAND FROB' });
  });
});
