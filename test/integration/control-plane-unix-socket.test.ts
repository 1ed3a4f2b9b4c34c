// The control plane on a unix socket (grpcExtraListen "unix:/abs/path"), the address pods of the
// local runtime use from their own network namespaces: ConfigService and CertificateService both
// answer on it, the file is 0600, a stale file of a dead process is replaced, a live one is not,
// and close() removes it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigClient, ConfigUpdate } from '../../common/config-client';
import { CertificateManager } from '../../common/identity/certificate-manager';
import { BootstrapTokenAuthenticator } from '../../control-plane/auth/bootstrap-token-authenticator';
import { ControlPlane, startControlPlane } from '../../control-plane/control-plane';
import { StaticSource } from '../../control-plane/sources/static-source';
import { namespace, pod, service } from '../support/kube-fixtures';

let dir: string;
const planes: ControlPlane[] = [];
const cleanups: Array<() => void | Promise<void>> = [];

beforeEach(() => {
  // mkdtemp makes it 0700: the socket is private from the moment it exists.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-cp-sock-'));
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await Promise.all(planes.splice(0).map((cp) => cp.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function start(socket: string): Promise<{ cp: ControlPlane; tokens: BootstrapTokenAuthenticator }> {
  const stateDir = path.join(dir, 'state');
  const tokens = new BootstrapTokenAuthenticator(stateDir);
  const source = new StaticSource('test', [
    namespace('shop', { 'istio.io/dataplane-mode': 'ambient' }),
    pod('web-1', { namespace: 'shop', ip: '10.1.0.11', labels: { app: 'web' }, serviceAccount: 'web' }),
    service('web', { namespace: 'shop', clusterIP: '10.96.0.10' }),
  ]);
  const cp = await startControlPlane({
    sources: [source],
    stateDir,
    nodeAuthenticator: tokens,
    grpcListen: '127.0.0.1:0',
    httpListen: '127.0.0.1:0',
    grpcExtraListen: [`unix:${socket}`],
  });
  planes.push(cp);
  return { cp, tokens };
}

function firstSnapshot(address: string): Promise<ConfigUpdate> {
  return new Promise((resolve, reject) => {
    const c = new ConfigClient({ address, subscription: { node: 'node1' }, accept: () => undefined, backoff: { initialMs: 50, maxMs: 200 } });
    cleanups.push(() => c.close());
    const timer = setTimeout(() => reject(new Error('no snapshot within 3 s')), 3000);
    c.on('update', (u) => {
      if (!u.snapshot) return;
      clearTimeout(timer);
      resolve(u);
    });
    void c.start();
  });
}

/** A socket file whose listener died without removing it (SIGKILL). */
async function staleSocket(socket: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`listener exited early (${code})`)));
  });
  child.removeAllListeners('exit');
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
  expect(fs.lstatSync(socket).isSocket()).toBe(true);
}

it('serves ConfigService and CertificateService on a 0600 socket, removed on close', async () => {
  const socket = path.join(dir, 'cp.sock');
  const { cp, tokens } = await start(socket);
  expect(cp.grpcExtraAddresses).toEqual([`unix:${socket}`]);
  const st = fs.lstatSync(socket);
  expect(st.isSocket()).toBe(true);
  expect(st.mode & 0o777).toBe(0o600);

  const snap = await firstSnapshot(`unix:${socket}`);
  expect(snap.resources.get('SERVICE:shop/web')?.service?.endpoints).toHaveLength(1);
  expect(snap.resources.has('WORKLOAD:Kubernetes//Pod/shop/web-1')).toBe(true);

  const { token } = tokens.issueNodeToken('node1');
  const certs = new CertificateManager({ address: `unix:${socket}`, nodeToken: { token } });
  cleanups.push(() => certs.close());
  const cert = await certs.acquire({ namespace: 'shop', serviceAccount: 'web' });
  expect(cert.identity.uri).toBe('spiffe://cluster.local/ns/shop/sa/web');

  for (const c of cleanups.splice(0).reverse()) await c();
  await cp.close();
  expect(fs.existsSync(socket)).toBe(false);
});

it('replaces a stale socket file left by a dead process', async () => {
  const socket = path.join(dir, 'cp.sock');
  await staleSocket(socket);
  await start(socket);
  const snap = await firstSnapshot(`unix:${socket}`);
  expect(snap.resources.has('SERVICE:shop/web')).toBe(true);
});

it('refuses a socket another process serves, and a path that is not a socket', async () => {
  const socket = path.join(dir, 'cp.sock');
  await start(socket);
  await expect(start(socket)).rejects.toMatchObject({ code: 'AMBIT_ERR_INVALID_OPTION', message: expect.stringContaining('is served by another process') });
  // The first control plane still owns and serves the socket.
  expect((await firstSnapshot(`unix:${socket}`)).resources.has('SERVICE:shop/web')).toBe(true);

  const file = path.join(dir, 'not-a-socket');
  fs.writeFileSync(file, 'keep me');
  await expect(start(file)).rejects.toMatchObject({ message: expect.stringContaining('exists and is not a socket') });
  expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
});

it('rejects a relative or over-long socket path before starting anything', async () => {
  await expect(start('relative.sock')).rejects.toMatchObject({ code: 'AMBIT_ERR_INVALID_OPTION', message: expect.stringContaining('unix:/absolute/path') });
  await expect(start(`/${'x'.repeat(120)}.sock`)).rejects.toMatchObject({ message: expect.stringContaining('longer than 107 bytes') });
});
