// The CA root in a Secret (--source kube, issue 7), through the real @kubernetes/client-node
// against the test API server: every control-plane replica and every restart signs with the same
// root; only the Lease holder creates the Secret (create-only, 409 = adopt the winner's); a
// replica that does not lead waits for it; a malformed Secret stops the start naming what is wrong.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { CoreV1Api } from '@kubernetes/client-node';
import { createLogger } from '../../common/log';
import { CA_ROOT_SECRET, SecretRootStore } from '../../control-plane/ca/secret-root-store';
import { ControlPlaneErrorCodes } from '../../control-plane/errors';
import { rbacAllows } from '../../control-plane/kube/rbac';
import { connectKube } from '../../control-plane/sources/kube/kube-client';
import { eventually, startKubeControlPlane, type KubeControlPlane } from '../support/kube-api-server/control-plane-harness';
import { KubeApiServer, type RecordedRequest } from '../support/kube-api-server/server';

const NS = 'ambit-system';

let api: KubeApiServer;
const planes: KubeControlPlane[] = [];
const dirs: string[] = [];

beforeEach(async () => {
  api = await KubeApiServer.start();
  api.addUser('replica-a');
  api.addUser('replica-b');
});

afterEach(async () => {
  await Promise.all(planes.splice(0).map((p) => p.close()));
  await api.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function start(identity: string, opts: Parameters<typeof startKubeControlPlane>[1] = {}): Promise<KubeControlPlane> {
  const p = await startKubeControlPlane(api, { user: identity, identity, ...opts });
  planes.push(p);
  return p;
}

const secretRequests = (user?: string): RecordedRequest[] => api.requests.filter((r) => r.resource === 'secrets' && (user === undefined || r.user === user));
const rbacName = (r: RecordedRequest): string => (r.subresource ? `${r.resource}/${r.subresource}` : r.resource);

function expectRbacCovers(requests: readonly RecordedRequest[]): void {
  for (const r of requests) expect([r.verb, rbacName(r), r.name, rbacAllows(r.verb, rbacName(r), r.name)]).toEqual([r.verb, rbacName(r), r.name, true]);
}

const holdLease = (holder: string, seconds: number): void => {
  api.apply({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'ambit-control-plane', namespace: NS },
    spec: { holderIdentity: holder, leaseDurationSeconds: seconds, renewTime: new Date().toISOString(), leaseTransitions: 0 },
  });
};

it('two control planes started together end with one root: one Secret, created once, by the leader', async () => {
  const [a, b] = await Promise.all([start('replica-a'), start('replica-b')]);
  expect(a.cp.ca.rootFingerprint).toBe(b.cp.ca.rootFingerprint);
  expect(a.cp.ca.trustBundle).toEqual(b.cp.ca.trustBundle);

  const secret = api.get('Secret', NS, CA_ROOT_SECRET)!;
  expect(secret).toMatchObject({
    type: 'kubernetes.io/tls',
    immutable: true,
    metadata: {
      labels: { 'app.kubernetes.io/managed-by': 'ambit-control-plane', 'app.kubernetes.io/component': 'ca-root' },
      annotations: { 'ambit.dev/trust-domain': 'cluster.local', 'ambit.dev/root-fingerprint': a.cp.ca.rootFingerprint },
    },
  });
  expect(Object.keys(secret.data).sort()).toEqual(['tls.crt', 'tls.key']);
  expect(Buffer.from(secret.data['tls.crt'], 'base64').toString()).toBe(a.cp.ca.rootCertificate);

  // Exactly one create went through, by the replica holding the Lease.
  const creates = secretRequests().filter((r) => r.verb === 'create' && r.status === 201);
  expect(creates).toHaveLength(1);
  expect(creates[0].user).toBe(api.get('Lease', NS, 'ambit-control-plane')?.spec.holderIdentity);
  expectRbacCovers(api.requests.filter((r) => r.user === 'replica-a' || r.user === 'replica-b'));
  // Only the Secret of that name is ever read (the Role grants get on it alone).
  expect(new Set(secretRequests().filter((r) => r.verb === 'get').map((r) => r.name))).toEqual(new Set([CA_ROOT_SECRET]));
});

it('keeps the root across a restart: the Secret is read, nothing is created again', async () => {
  const first = await start('replica-a');
  const fingerprint = first.cp.ca.rootFingerprint;
  const secret = api.get('Secret', NS, CA_ROOT_SECRET)!;
  await planes.splice(0)[0].close();

  const creates = secretRequests().filter((r) => r.verb === 'create').length;
  const again = await start('replica-a');
  expect(again.cp.ca.rootFingerprint).toBe(fingerprint);
  expect(secretRequests().filter((r) => r.verb === 'create').length).toBe(creates);
  expect(api.get('Secret', NS, CA_ROOT_SECRET)?.metadata.resourceVersion).toBe(secret.metadata.resourceVersion);
  expect(again.logs.find((l) => l.msg === 'loaded the root CA')).toMatchObject({ fingerprint, secret: `${NS}/${CA_ROOT_SECRET}` });

  // A replica that never led reads the same root too.
  const other = await start('replica-b');
  expect(other.cp.ca.rootFingerprint).toBe(fingerprint);
  expect(secretRequests('replica-b').map((r) => r.verb)).toEqual(['get']);
});

it('a replica that does not lead waits for the leader to create the Secret, then uses it', async () => {
  // replica-a holds the Lease (say it is starting up too); replica-b must not create the root.
  holdLease('replica-a', 30);
  let bDone = false;
  const b = start('replica-b').finally(() => (bDone = true));
  await eventually('replica-b waiting', () => secretRequests('replica-b').filter((r) => r.status === 404).length >= 3);
  expect(bDone).toBe(false);
  expect(api.get('Secret', NS, CA_ROOT_SECRET)).toBeUndefined();

  const a = await start('replica-a'); // renews its own Lease at once, so it leads and creates
  const waiter = await b;
  expect(waiter.cp.ca.rootFingerprint).toBe(a.cp.ca.rootFingerprint);
  expect(waiter.kube.leader.isLeader).toBe(false);
  expect(secretRequests('replica-b').filter((r) => r.verb === 'create')).toEqual([]);
  expect(waiter.logs.find((l) => /does not exist yet; waiting for the leader/.test(l.msg))).toMatchObject({
    level: 'info',
    lease: `${NS}/ambit-control-plane`,
    msg: `the CA root Secret ${NS}/${CA_ROOT_SECRET} does not exist yet; waiting for the leader (Lease ${NS}/ambit-control-plane) to create it`,
  });
  expectRbacCovers(api.requests.filter((r) => r.user === 'replica-a' || r.user === 'replica-b'));
});

it('a replica that waits in vain fails to start after the bound, saying who should have created the Secret', async () => {
  holdLease('gone-replica', 60);
  const started = Date.now();
  const e = await start('replica-b', { caRoot: { waitMs: 400 } }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  expect(e).toMatchObject({
    code: ControlPlaneErrorCodes.CA_STATE,
    message: expect.stringMatching(
      /^could not load the CA root Secret ambit-system\/ambit-ca-root within 400 ms: it does not exist and this replica did not become the leader \(Lease ambit-system\/ambit-control-plane\) to create it/,
    ),
  });
  expect(api.get('Secret', NS, CA_ROOT_SECRET)).toBeUndefined();
  // The failed start stopped campaigning: the Lease is still the other holder's and nothing keeps polling.
  const n = api.requests.length;
  await new Promise((r) => setTimeout(r, 300));
  expect(api.requests.length).toBe(n);
});

describe('a malformed Secret stops the start with CA_STATE naming the Secret and what is wrong; it is never replaced', () => {
  const validPair = async (): Promise<Record<string, string>> => {
    const p = await start('replica-a');
    const data = { ...api.get('Secret', NS, CA_ROOT_SECRET)!.data } as Record<string, string>;
    await planes.splice(0)[0].close();
    api.remove('Secret', NS, CA_ROOT_SECRET);
    expect(p.cp.ca.rootFingerprint).toMatch(/^[0-9a-f]{64}$/);
    return data;
  };
  const refusal = async (data: Record<string, string>): Promise<{ code?: string; message: string }> => {
    const writes = secretRequests().filter((r) => r.verb !== 'get').length;
    const put = api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: CA_ROOT_SECRET, namespace: NS }, type: 'kubernetes.io/tls', data });
    const err = await start('replica-a').then(
      () => {
        throw new Error('the control plane started with a malformed root Secret');
      },
      (e: { code?: string; message: string }) => e,
    );
    // Nothing wrote over it, or tried to.
    expect(api.get('Secret', NS, CA_ROOT_SECRET)?.metadata.resourceVersion).toBe(put.metadata.resourceVersion);
    expect(secretRequests().filter((r) => r.verb !== 'get').length).toBe(writes);
    expect(err.code).toBe(ControlPlaneErrorCodes.CA_STATE);
    return err;
  };

  it('a missing key', async () => {
    const { 'tls.crt': crt } = await validPair();
    expect((await refusal({ 'tls.crt': crt })).message).toBe(
      'the CA root Secret ambit-system/ambit-ca-root has no "tls.key" (its keys: tls.crt); it must hold "tls.key" and "tls.crt" (PEM). ' +
        'Restore it from a backup, or delete the Secret (kubectl -n ambit-system delete secret ambit-ca-root) and restart the control plane ' +
        'to create a new root (certificates issued by the old root then stop verifying)',
    );
  });

  it('a key that is not a PEM private key', async () => {
    const { 'tls.crt': crt } = await validPair();
    const bad = Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n').toString('base64');
    expect((await refusal({ 'tls.crt': crt, 'tls.key': bad })).message).toMatch(
      /^Secret ambit-system\/ambit-ca-root key "tls\.key" is not a PEM private key \(.*\); restore it from a backup, or delete the Secret \(kubectl -n ambit-system delete secret ambit-ca-root\)/,
    );
  });

  it('a certificate that does not belong to the key, or an empty one', async () => {
    const one = await validPair();
    const two = await validPair();
    expect((await refusal({ 'tls.crt': one['tls.crt'], 'tls.key': two['tls.key'] })).message).toContain(
      'Secret ambit-system/ambit-ca-root key "tls.crt" does not belong to the key in Secret ambit-system/ambit-ca-root key "tls.key"',
    );
    api.remove('Secret', NS, CA_ROOT_SECRET);
    expect((await refusal({ 'tls.crt': '', 'tls.key': one['tls.key'] })).message).toContain('the CA root Secret ambit-system/ambit-ca-root key "tls.crt" is empty;');
  });
});

it('a leader that loses the create race (409 AlreadyExists) adopts the Secret the other created', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-ca-secret-'));
  dirs.push(dir);
  const logs: Array<Record<string, any>> = [];
  const logger = createLogger('control-plane', {
    level: 'debug',
    destination: new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, any>);
        cb();
      },
    }),
  });
  const core = (user: string): CoreV1Api => connectKube(api.writeKubeconfig(dir, user)).core;
  // Both believe they lead (a leadership hand-over in between). B reads "absent", then A creates
  // before B gets to its own create.
  const leading = { isLeader: true, start: () => undefined };
  const storeA = new SecretRootStore({ secrets: core('replica-a'), namespace: NS, leadership: leading, lease: `${NS}/ambit-control-plane` });
  const realB = core('replica-b');
  let rootA: Promise<Awaited<ReturnType<SecretRootStore['open']>>> | undefined;
  const secretsB: Pick<CoreV1Api, 'readNamespacedSecret' | 'createNamespacedSecret'> = {
    readNamespacedSecret: async (req) => {
      try {
        return await realB.readNamespacedSecret(req);
      } catch (err) {
        rootA ??= storeA.open('cluster.local', logger, () => new Date());
        await rootA;
        throw err;
      }
    },
    createNamespacedSecret: (req) => realB.createNamespacedSecret(req),
  };
  const storeB = new SecretRootStore({ secrets: secretsB, namespace: NS, leadership: leading, lease: `${NS}/ambit-control-plane` });
  const b = await storeB.open('cluster.local', logger, () => new Date());
  const a = await rootA!;
  expect(b.fingerprint).toBe(a.fingerprint);
  const creates = secretRequests().filter((r) => r.verb === 'create');
  expect(creates.map((r) => [r.user, r.status])).toEqual([
    ['replica-a', 201],
    ['replica-b', 409],
  ]);
  expect(logs.some((l) => l.msg === `another replica created the CA root Secret ${NS}/${CA_ROOT_SECRET} first; using that one`)).toBe(true);
});
