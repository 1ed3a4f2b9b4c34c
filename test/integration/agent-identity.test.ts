/**
 * The agent's CertificateManager against the control plane's real CA over gRPC on 127.0.0.1:0:
 * real keys, CSRs, signatures and node tokens. Short validities (4-6 s) make rotation, outages and
 * expiry observable in a few seconds. The CA is wrapped only to count the requests that reach it.
 */
import * as grpc from '@grpc/grpc-js';
import { once } from 'node:events';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkedCertificate } from '../../common/identity/certificate-request';
import { CertificateManager, CertificateManagerOptions } from '../../common/identity/certificate-manager';
import { IdentityError, IdentityErrorCodes } from '../../common/identity/identity-errors';
import { createKeyAndCsr } from '../../common/identity/csr';
import { parseSpiffeId } from '../../common/identity/spiffe';
import { verifySvidChain } from '../../common/identity/verify';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import { silentLogger } from '../../common/log';
import { BootstrapTokenAuthenticator } from '../../control-plane/auth/bootstrap-token-authenticator';
import { CertificateAuthority, CertificateIssuer } from '../../control-plane/ca/certificate-authority';
import { addCertificateService } from '../../control-plane/ca/certificate-service';
import type { IdentityDirectory } from '../../control-plane/model/resource-store';

const TD = 'cluster.local';
const REVIEWS = { namespace: 'bookinfo', serviceAccount: 'reviews' };
const PRODUCTPAGE = { namespace: 'bookinfo', serviceAccount: 'productpage' };
const DETAILS = { namespace: 'bookinfo', serviceAccount: 'details' };
const RATINGS = { namespace: 'bookinfo', serviceAccount: 'ratings' }; // scheduled on node-b only
const uri = (id: { namespace: string; serviceAccount: string }): string => `spiffe://${TD}/ns/${id.namespace}/sa/${id.serviceAccount}`;

const directory: IdentityDirectory = {
  hasIdentityOnNode: (node, ns, sa) =>
    (node === 'node-a' && ns === 'bookinfo' && ['reviews', 'productpage', 'details'].includes(sa)) ||
    (node === 'node-b' && ns === 'bookinfo' && sa === 'ratings'),
};

/** The real CA and CertificateService, restartable on the same port to simulate an outage. */
class ControlPlane {
  /** CreateCertificate calls that got past authentication. */
  issueCalls = 0;
  private server: grpc.Server | undefined;
  port = 0;

  private constructor(
    readonly ca: CertificateAuthority,
    readonly auth: BootstrapTokenAuthenticator,
  ) {}

  static async start(stateDir: string): Promise<ControlPlane> {
    const ca = await CertificateAuthority.open({ stateDir, trustDomain: TD, identityDirectory: directory });
    const cp = new ControlPlane(ca, new BootstrapTokenAuthenticator(stateDir));
    await cp.serve();
    return cp;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async serve(): Promise<void> {
    const counting: CertificateIssuer = {
      issue: (req) => {
        this.issueCalls++;
        return this.ca.issue(req);
      },
    };
    const server = new grpc.Server();
    addCertificateService(server, { ca: counting, authenticator: this.auth, logger: silentLogger });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${this.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.server = server;
  }

  /** Drops every connection at once: the agent sees UNAVAILABLE. */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}

const tempDirs: string[] = [];
const managers: CertificateManager[] = [];
const planes: ControlPlane[] = [];

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-agent-identity-'));
  tempDirs.push(d);
  return d;
}

afterEach(() => {
  for (const m of managers.splice(0)) m.close();
});
afterAll(() => {
  for (const cp of planes) cp.stop();
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

async function startControlPlane(): Promise<{ cp: ControlPlane; tokenFile: string; token: string }> {
  const cp = await ControlPlane.start(tempDir());
  planes.push(cp);
  const { tokenFile, token } = cp.auth.issueNodeToken('node-a');
  return { cp, tokenFile, token };
}

function manager(cp: ControlPlane, opts: Partial<CertificateManagerOptions> & Pick<CertificateManagerOptions, 'nodeToken'>): CertificateManager {
  const m = new CertificateManager({ address: cp.address, trustDomain: TD, ...opts });
  managers.push(m);
  return m;
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function rejection(p: Promise<unknown>): Promise<IdentityError> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(IdentityError);
  return e as IdentityError;
}

const serial = (c: WorkloadCertificate): string => new X509Certificate(c.certChainPem[0]).serialNumber;

describe('CertificateManager against the real CA', () => {
  let cp: ControlPlane;
  let tokenFile: string;
  let token: string;

  beforeAll(async () => {
    ({ cp, tokenFile, token } = await startControlPlane());
  });

  it('acquires a verified certificate with the requested SPIFFE ID, key kept in the agent', async () => {
    const m = manager(cp, { nodeToken: { file: tokenFile } });
    const bundles: Array<readonly string[]> = [];
    m.on('trustBundle', (pems) => bundles.push(pems));
    const started = Date.now();
    const cert = await m.acquire(REVIEWS);

    expect(cert.identity.uri).toBe(uri(REVIEWS));
    // Leaf only: the root is in every peer's bundle already.
    expect(cert.certChainPem).toHaveLength(1);
    const v = await verifySvidChain(cert.certChainPem, cert.trustBundlePem);
    expect(v.identity.uri).toBe(uri(REVIEWS));
    expect(new X509Certificate(cert.certChainPem[0]).subjectAltName).toBe(`URI:${uri(REVIEWS)}`);
    // Default validity 24 h.
    expect(Math.abs(cert.notAfter.getTime() - started - 86_400_000)).toBeLessThan(120_000);
    const leafKey = new X509Certificate(cert.certChainPem[0]).publicKey.export({ type: 'spki', format: 'der' });
    expect(leafKey.equals(createPublicKey(createPrivateKey(cert.keyPem)).export({ type: 'spki', format: 'der' }))).toBe(true);

    expect(new X509Certificate(m.trustBundle()[0]).raw.equals(new X509Certificate(cp.ca.rootCertificate).raw)).toBe(true);
    expect(bundles).toEqual([m.trustBundle()]);
    expect(m.current(uri(REVIEWS))).toBe(cert);
    const [st] = m.status();
    expect(st).toMatchObject({ identity: uri(REVIEWS), references: 1, state: 'valid', consecutiveFailures: 0, notAfter: cert.notAfter });
    // Next refresh at half-life: about 12 h from now.
    expect(Math.abs(st.nextRefresh!.getTime() - started - 43_200_000)).toBeLessThan(120_000);
  });

  it('shares one request among concurrent acquires of an identity', async () => {
    const m = manager(cp, { nodeToken: { token } });
    const before = cp.issueCalls;
    const certs = await Promise.all([1, 2, 3, 4, 5].map(() => m.acquire(PRODUCTPAGE)));
    expect(cp.issueCalls - before).toBe(1);
    for (const c of certs) expect(c).toBe(certs[0]);
    expect(m.status()[0]).toMatchObject({ references: 5, state: 'valid' });
    // A held identity is served from memory.
    expect(await m.acquire(PRODUCTPAGE)).toBe(certs[0]);
    expect(cp.issueCalls - before).toBe(1);
  });

  it('refuses an identity not on this node with a typed error, and keeps no reference', async () => {
    const m = manager(cp, { nodeToken: { file: tokenFile }, retry: { initialMs: 50, maxMs: 50 } });
    const before = cp.issueCalls;
    const e = await rejection(m.acquire(RATINGS));
    expect(e.code).toBe(IdentityErrorCodes.NOT_ON_NODE);
    expect(e.remoteCode).toBe('AMBIT_ERR_PERMISSION_DENIED');
    expect(e.grpcCode).toBe(grpc.status.PERMISSION_DENIED);
    expect(e.message).toContain('identity not on this node');
    expect(e.message).toContain(uri(RATINGS));
    expect(e.retryable).toBe(false);
    await waitFor('the identity to be forgotten', () => m.status().length === 0);
    // Nobody holds it, so nothing retries.
    await new Promise((r) => setTimeout(r, 200));
    expect(cp.issueCalls - before).toBe(1);
  });

  it('names a refused or missing node token', async () => {
    const wrong = manager(cp, { nodeToken: { token: 'not-the-node-token' } });
    expect((await rejection(wrong.acquire(REVIEWS))).code).toBe(IdentityErrorCodes.UNAUTHENTICATED);
    const missing = manager(cp, { nodeToken: { file: path.join(tempDir(), 'no-such-token') } });
    const e = await rejection(missing.acquire(REVIEWS));
    expect(e.code).toBe(IdentityErrorCodes.TOKEN);
    expect(e.message).toContain('no-such-token');
  });

  it('forgets an identity on its last release and fetches anew on re-acquire', async () => {
    const m = manager(cp, { nodeToken: { token } });
    const first = await m.acquire(DETAILS);
    await m.acquire(DETAILS);
    m.release(DETAILS);
    expect(m.current(uri(DETAILS))).toBe(first); // one reference left
    m.release(DETAILS);
    expect(m.current(uri(DETAILS))).toBeUndefined();
    expect(m.status()).toEqual([]);
    expect(() => m.release(DETAILS)).toThrow(expect.objectContaining({ code: IdentityErrorCodes.INVALID_ARGUMENT }));

    const before = cp.issueCalls;
    const again = await m.acquire(DETAILS);
    expect(cp.issueCalls - before).toBe(1);
    expect(serial(again)).not.toBe(serial(first));
    expect(again.keyPem).not.toBe(first.keyPem);
  });

  it('finishes in-flight work after the last release, then forgets the identity', async () => {
    const m = manager(cp, { nodeToken: { token } });
    const rotated: WorkloadCertificate[] = [];
    m.on('rotated', (c) => rotated.push(c));
    const before = cp.issueCalls;
    const pending = m.acquire(DETAILS);
    m.release(DETAILS);
    const e = await rejection(pending);
    expect(e.code).toBe(IdentityErrorCodes.CLOSED);
    // Still listed while its request is in flight ...
    expect(m.status()).toHaveLength(1);
    await waitFor('the request to settle', () => m.status().length === 0);
    expect(cp.issueCalls - before).toBe(1);
    // ... and its certificate, when it came, was dropped, not installed.
    expect(rotated).toEqual([]);
    expect(m.current(uri(DETAILS))).toBeUndefined();
  });

  it('rotates at half-life and emits rotated', async () => {
    const m = manager(cp, { nodeToken: { token }, validitySeconds: 4 });
    const t0 = Date.now();
    const first = await m.acquire(REVIEWS);
    const rotatedAt = once(m, 'rotated');
    const [next, previous] = (await rotatedAt) as [WorkloadCertificate, WorkloadCertificate | undefined];
    const elapsed = Date.now() - t0;
    // notAfter has 1 s precision, so half of a 4 s life is 1.5-2 s.
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(3000);
    expect(previous).toBe(first);
    expect(serial(next)).not.toBe(serial(first));
    expect(next.keyPem).not.toBe(first.keyPem); // a fresh key each time
    expect(next.notAfter.getTime()).toBeGreaterThan(first.notAfter.getTime());
    expect(m.current(uri(REVIEWS))).toBe(next);
    expect(m.status()[0]).toMatchObject({ state: 'valid', references: 1 });
  });

  it('gives up waiting for a first certificate after acquireTimeoutMs when the CA is unreachable', async () => {
    const m = new CertificateManager({
      address: '127.0.0.1:1',
      nodeToken: { token },
      acquireTimeoutMs: 400,
      retry: { initialMs: 50, maxMs: 100 },
    });
    managers.push(m);
    const e = await rejection(m.acquire(REVIEWS));
    expect(e.code).toBe(IdentityErrorCodes.TIMEOUT);
    expect(e.message).toContain('last error');
    expect((e.cause as IdentityError).code).toBe(IdentityErrorCodes.UNAVAILABLE);
    // Forgotten once the retry in flight at the deadline has failed too (it may still be running).
    await waitFor('the last request to settle', () => m.status().length === 0);
  });

  it('close() rejects waiting acquires and later calls', async () => {
    const m = manager(cp, { nodeToken: { token } });
    const pending = m.acquire(PRODUCTPAGE);
    m.close();
    m.close();
    expect((await rejection(pending)).code).toBe(IdentityErrorCodes.CLOSED);
    expect((await rejection(m.acquire(PRODUCTPAGE))).code).toBe(IdentityErrorCodes.CLOSED);
    expect(m.status()).toEqual([]);
  });

  it('refuses a chain for another identity or another key (checked before use)', async () => {
    const m = manager(cp, { nodeToken: { token } });
    const real = await m.acquire(PRODUCTPAGE);
    const response = { certChain: [...real.certChainPem, ...real.trustBundlePem], trustBundle: [...real.trustBundlePem] };
    const wrongId = await checkedCertificate(parseSpiffeId(uri(DETAILS)), real.keyPem, response).catch((e: unknown) => e);
    expect(wrongId).toMatchObject({ code: IdentityErrorCodes.BAD_CHAIN });
    expect((wrongId as Error).message).toContain(`its URI SAN is ${uri(PRODUCTPAGE)}`);
    const otherKey = (await createKeyAndCsr(uri(PRODUCTPAGE))).keyPem;
    const wrongKey = await checkedCertificate(parseSpiffeId(uri(PRODUCTPAGE)), otherKey, response).catch((e: unknown) => e);
    expect(wrongKey).toMatchObject({ code: IdentityErrorCodes.BAD_CHAIN });
    const noBundle = await checkedCertificate(parseSpiffeId(uri(PRODUCTPAGE)), real.keyPem, { ...response, trustBundle: [] }).catch((e: unknown) => e);
    expect(noBundle).toMatchObject({ code: IdentityErrorCodes.BAD_CHAIN });
    // The real response passes.
    expect((await checkedCertificate(parseSpiffeId(uri(PRODUCTPAGE)), real.keyPem, response)).identity.uri).toBe(uri(PRODUCTPAGE));
  });

  it('validates its options at construction', () => {
    const make = (o: Partial<CertificateManagerOptions>) => () => new CertificateManager({ address: cp.address, nodeToken: { token }, ...o });
    expect(make({ validitySeconds: 0 })).toThrow(/validitySeconds=0/);
    expect(make({ refreshFraction: 1 })).toThrow(/refreshFraction=1/);
    expect(make({ nodeToken: { token: '' } })).toThrow(expect.objectContaining({ code: IdentityErrorCodes.TOKEN }));
    expect(make({ trustDomain: 'Bad:Domain' })).toThrow(/trust domain/);
  });
});

describe('CertificateManager through a control-plane outage', () => {
  it('keeps serving the old certificate until it expires, retries with backoff, then recovers', async () => {
    const { cp, token } = await startControlPlane();
    const retry = { initialMs: 100, maxMs: 400, multiplier: 2, jitter: 0 };
    const m = manager(cp, { nodeToken: { token }, validitySeconds: 4, retry, requestTimeoutMs: 1000 });
    const first = await m.acquire(REVIEWS);
    cp.stop();

    // From half-life on, refreshes fail; each retry waits twice as long, up to maxMs.
    const delays: number[] = [];
    let seen = 0;
    await waitFor('four failed refreshes', () => {
      const st = m.status()[0];
      if (st.consecutiveFailures > seen && st.nextRefresh !== undefined && st.lastError !== undefined) {
        seen = st.consecutiveFailures;
        delays.push(st.nextRefresh.getTime() - st.lastError.at.getTime());
      }
      return seen >= 4;
    });
    expect(delays.slice(0, 4).map((d) => Math.round(d / 50) * 50)).toEqual([100, 200, 400, 400]);
    const during = m.status()[0];
    expect(during).toMatchObject({ state: 'retrying', lastError: { code: IdentityErrorCodes.UNAVAILABLE } });
    expect(Date.now()).toBeLessThan(first.notAfter.getTime());
    expect(m.current(uri(REVIEWS))).toBe(first); // never replaced by nothing

    // Past expiry nothing is served, and a new acquire waits for the CA.
    await waitFor('expiry', () => Date.now() > first.notAfter.getTime() + 50);
    expect(m.current(uri(REVIEWS))).toBeUndefined();
    expect(m.status()[0].state).toBe('expired');
    const waiting = m.acquire(REVIEWS);

    const rotated = once(m, 'rotated');
    await cp.serve();
    const [next, previous] = (await rotated) as [WorkloadCertificate, WorkloadCertificate | undefined];
    expect(previous).toBe(first);
    expect(await waiting).toBe(next);
    expect(m.current(uri(REVIEWS))).toBe(next);
    expect(m.status()[0]).toMatchObject({ state: 'valid', consecutiveFailures: 0, references: 2 });
  });
});
