/**
 * The control plane's CA end to end: a real CertificateService on 127.0.0.1:0, a real grpc-js
 * client with the generated types, real keys and signatures, state in temporary directories.
 * Chains are checked twice, by common/identity/verify.ts and independently by OpenSSL through
 * node:crypto's X509Certificate and a real mutual-TLS handshake.
 */
import * as grpc from '@grpc/grpc-js';
import { createHash, createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { AmbitError } from '../../common/errors';
import { createKeyAndCsr } from '../../common/identity/csr';
import { verifySvidChain } from '../../common/identity/verify';
import { ECDSA_P256, importEcdsaSigningKey, pemBlocks, toPem, x509 } from '../../common/identity/x509';
import { createLogger, silentLogger } from '../../common/log';
import type { CertificateServiceClient } from '../../common/proto/generated/ambit/v1/CertificateService';
import type { CreateCertificateRequest } from '../../common/proto/generated/ambit/v1/CreateCertificateRequest';
import type { CreateCertificateResponse__Output } from '../../common/proto/generated/ambit/v1/CreateCertificateResponse';
import { createCertificateServiceClient } from '../../common/proto/load';
import { BootstrapTokenAuthenticator } from '../../control-plane/auth/bootstrap-token-authenticator';
import { CertificateAuthority } from '../../control-plane/ca/certificate-authority';
import { addCertificateService, ERROR_CODE_METADATA } from '../../control-plane/ca/certificate-service';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../../control-plane/errors';
import type { IdentityDirectory } from '../../control-plane/model/resource-store';
import { thrown } from '../support/thrown';

const TD = 'cluster.local';
const REVIEWS = `spiffe://${TD}/ns/bookinfo/sa/reviews`; // runs on node-a
const RATINGS = `spiffe://${TD}/ns/bookinfo/sa/ratings`; // runs on node-b only
const DAY_S = 86_400;

/** A fixed set of {node, ns, sa}: the real model is wired in by the control plane. */
class FixedIdentityDirectory implements IdentityDirectory {
  constructor(private readonly pods: ReadonlyArray<{ node: string; ns: string; sa: string }>) {}
  hasIdentityOnNode(node: string, namespace: string, serviceAccount: string): boolean {
    return this.pods.some((p) => p.node === node && p.ns === namespace && p.sa === serviceAccount);
  }
}

const directory = new FixedIdentityDirectory([
  { node: 'node-a', ns: 'bookinfo', sa: 'reviews' },
  { node: 'node-b', ns: 'bookinfo', sa: 'ratings' },
]);

const tempDirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-ca-'));
  tempDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** JSON log lines, as pino writes them. */
function logSink(): { lines: Array<Record<string, unknown>>; stream: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

interface ControlPlane {
  ca: CertificateAuthority;
  auth: BootstrapTokenAuthenticator;
  client: CertificateServiceClient;
  logs: Array<Record<string, unknown>>;
  rawLogs: () => string;
  stop(): Promise<void>;
}

async function startControlPlane(stateDir: string): Promise<ControlPlane> {
  const { lines, stream } = logSink();
  const logger = createLogger('control-plane', { level: 'info', destination: stream });
  const ca = await CertificateAuthority.open({ stateDir, trustDomain: TD, identityDirectory: directory, logger });
  const auth = new BootstrapTokenAuthenticator(stateDir);
  const server = new grpc.Server();
  addCertificateService(server, { ca, authenticator: auth, logger });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const client = createCertificateServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    ca,
    auth,
    client,
    logs: lines,
    rawLogs: () => lines.map((l) => JSON.stringify(l)).join('\n'),
    async stop() {
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

type CallResult =
  | { response: CreateCertificateResponse__Output; error?: undefined }
  | { response?: undefined; error: grpc.ServiceError };

function createCertificate(
  client: CertificateServiceClient,
  req: CreateCertificateRequest,
  authorization?: string,
): Promise<CallResult> {
  const md = new grpc.Metadata();
  if (authorization !== undefined) md.set('authorization', authorization);
  return new Promise((resolve) => {
    client.createCertificate(req, md, { deadline: Date.now() + 10_000 }, (error, response) =>
      resolve(error ? { error } : { response: response as CreateCertificateResponse__Output }),
    );
  });
}

function expectRefused(result: CallResult, code: grpc.status, ambitCode: string, message: string): void {
  expect(result.response).toBeUndefined();
  expect(result.error?.code).toBe(code);
  expect(result.error?.details).toContain(message);
  expect(result.error?.metadata.get(ERROR_CODE_METADATA)).toEqual([ambitCode]);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('CertificateService', () => {
  let stateDir: string;
  let cp: ControlPlane;
  let bearer: string;

  beforeAll(async () => {
    stateDir = tempDir();
    cp = await startControlPlane(stateDir);
    const { tokenFile } = cp.auth.issueNodeToken('node-a');
    // As the agent would: read the token from the file handed to it.
    bearer = `Bearer ${fs.readFileSync(tokenFile, 'utf8')}`;
  });
  afterAll(async () => {
    await cp?.stop();
  });

  describe('an identity running on the caller node', () => {
    let keyPem: string;
    let result: CallResult;
    let requestedAt: number;
    let logsBefore: number;

    beforeAll(async () => {
      const pair = await createKeyAndCsr(REVIEWS);
      keyPem = pair.keyPem;
      logsBefore = cp.logs.length;
      requestedAt = Date.now();
      result = await createCertificate(cp.client, { csr: pair.csrPem, identity: REVIEWS }, bearer);
    });

    it('gets a chain (leaf, root) and the root as trust bundle', () => {
      expect(result.error).toBeUndefined();
      const { certChain, trustBundle } = result.response!;
      expect(certChain).toHaveLength(2);
      expect(trustBundle).toEqual([cp.ca.rootCertificate]);
      expect(certChain[1]).toBe(trustBundle[0]);
    });

    it('verifies with common/identity/verify.ts: identity and a 24 h lifetime', async () => {
      const { certChain, trustBundle } = result.response!;
      const v = await verifySvidChain(certChain, trustBundle);
      expect(v.identity.uri).toBe(REVIEWS);
      const ttl = (v.notAfter.getTime() - requestedAt) / 1000;
      expect(Math.abs(ttl - DAY_S)).toBeLessThanOrEqual(120);
      expect(Math.abs((v.notAfter.getTime() - v.notBefore.getTime()) / 1000 - DAY_S)).toBeLessThanOrEqual(120);
      // Backdated for clock skew, so a peer whose clock is a little behind accepts it.
      expect(v.notBefore.getTime()).toBeLessThanOrEqual(requestedAt - 59_000);
    });

    it('verifies independently with OpenSSL (node:crypto X509Certificate)', () => {
      const [leafPem, rootPem] = result.response!.certChain;
      const leaf = new X509Certificate(leafPem);
      const root = new X509Certificate(rootPem);
      expect(leaf.checkIssued(root)).toBe(true);
      expect(leaf.verify(root.publicKey)).toBe(true);
      expect(root.verify(root.publicKey)).toBe(true);
      expect(leaf.ca).toBe(false);
      expect(root.ca).toBe(true);
      expect(leaf.subjectAltName).toBe(`URI:${REVIEWS}`);
      expect(leaf.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
      // The certified key is the agent's: it matches the private key that never left "the agent".
      const agentPublic = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
      expect(leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(agentPublic)).toBe(true);
      expect(root.subject).toBe(`O=Ambit\nCN=Ambit root CA ${TD}`);
      expect(leaf.serialNumber).toMatch(/^[0-9A-F]{30,34}$/);
    });

    it('carries the leaf profile: critical SAN only, not a CA, key usages, key identifiers', () => {
      const leaf = new x509.X509Certificate(result.response!.certChain[0]);
      const root = new x509.X509Certificate(result.response!.certChain[1]);
      expect(leaf.subject).toBe('');
      const san = leaf.getExtension(x509.SubjectAlternativeNameExtension);
      expect(san?.critical).toBe(true);
      expect(san?.names.toJSON()).toEqual([{ type: 'url', value: REVIEWS }]);
      expect(leaf.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
      expect(leaf.getExtension(x509.KeyUsagesExtension)?.usages).toBe(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement,
      );
      const aki = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
      expect(aki).toBeDefined();
      expect(aki).toBe(root.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
      expect(leaf.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
    });

    it('works for mutual TLS 1.3 between two workloads', async () => {
      const { certChain, trustBundle } = result.response!;
      const server = tls.createServer({
        key: keyPem,
        cert: certChain.join(''),
        ca: trustBundle,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.3',
      });
      const peerSan = new Promise<string | undefined>((resolve) =>
        server.on('secureConnection', (s) => {
          resolve(s.getPeerCertificate().subjectaltname);
          s.end();
        }),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const port = (server.address() as AddressInfo).port;
        const clientSan = await new Promise<string | undefined>((resolve, reject) => {
          const s = tls.connect({
            host: '127.0.0.1',
            port,
            key: keyPem,
            cert: certChain.join(''),
            ca: trustBundle,
            // SPIFFE peers are checked by URI SAN, not host name.
            checkServerIdentity: () => undefined,
          });
          s.on('secureConnect', () => {
            resolve(s.getPeerCertificate().subjectaltname);
            s.end();
          });
          s.on('error', reject);
        });
        expect(clientSan).toBe(`URI:${REVIEWS}`);
        expect(await peerSan).toBe(`URI:${REVIEWS}`);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it('writes exactly one audit line for the issuance, with no secret in any line', () => {
      const leaf = new X509Certificate(result.response!.certChain[0]);
      const audit = cp.logs.slice(logsBefore).filter((l) => l.audit === true);
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        level: 'info',
        event: 'certificate_issued',
        component: 'ca',
        node: 'node-a',
        identity: REVIEWS,
        serial: leaf.serialNumber.toLowerCase(),
        notBefore: new Date(leaf.validFrom).toISOString(),
        notAfter: new Date(leaf.validTo).toISOString(),
        fingerprint: createHash('sha256').update(leaf.raw).digest('hex'),
      });
      const raw = cp.rawLogs();
      expect(raw).not.toContain('PRIVATE KEY');
      expect(raw).not.toContain(bearer.slice('Bearer '.length));
    });
  });

  it('honours a requested validity up to the 7-day maximum', async () => {
    const short = await createCertificate(cp.client, { ...(await csrFor(REVIEWS)), validitySeconds: 3600 }, bearer);
    const long = await createCertificate(cp.client, { ...(await csrFor(REVIEWS)), validitySeconds: 30 * DAY_S }, bearer);
    const life = (r: CallResult) => {
      const c = new X509Certificate(r.response!.certChain[0]);
      return (Date.parse(c.validTo) - Date.now()) / 1000;
    };
    expect(Math.abs(life(short) - 3600)).toBeLessThanOrEqual(120);
    expect(Math.abs(life(long) - 7 * DAY_S)).toBeLessThanOrEqual(120);
  });

  it('refuses an identity whose pods run on another node: PERMISSION_DENIED, audited', async () => {
    const before = cp.logs.length;
    const r = await createCertificate(cp.client, await csrFor(RATINGS), bearer);
    expectRefused(
      r,
      grpc.status.PERMISSION_DENIED,
      ControlPlaneErrorCodes.PERMISSION_DENIED,
      'no pod with service account bookinfo/ratings is scheduled on node node-a',
    );
    const audit = cp.logs.slice(before).filter((l) => l.audit === true);
    expect(audit).toEqual([
      expect.objectContaining({
        level: 'warn',
        event: 'certificate_refused',
        node: 'node-a',
        identity: RATINGS,
        code: ControlPlaneErrorCodes.PERMISSION_DENIED,
        reason: expect.stringContaining('node node-a'),
      }),
    ]);
  });

  describe('malformed requests are INVALID_ARGUMENT with a message', () => {
    const OTHER_TD = 'spiffe://example.org/ns/bookinfo/sa/reviews';
    const req = async (csr: string | Promise<string>, identity = REVIEWS) => ({ csr: await csr, identity });
    const csrOf = async (identity: string) => (await createKeyAndCsr(identity)).csrPem;
    const cases: Array<[string, () => Promise<CreateCertificateRequest>, string]> = [
      ['garbage', () => req('not a csr at all'), 'csr is not PEM (no "-----BEGIN CERTIFICATE REQUEST-----" block)'],
      ['an empty csr', () => req(''), 'csr is empty'],
      [
        'a certificate PEM instead of a CSR',
        () => req(cp.ca.rootCertificate),
        'csr is a PEM "CERTIFICATE", not a "CERTIFICATE REQUEST"',
      ],
      [
        'a CSR PEM holding random bytes',
        () => req(pem('CERTIFICATE REQUEST', randomBytes(200))),
        'csr is not a PKCS#10 certificate request',
      ],
      ['an RSA key', () => req(rsaCsr(REVIEWS)), 'csr key is RSA 2048-bit; the CA requires an ECDSA P-256 key'],
      ['a P-384 key', () => req(ecCsr('P-384', REVIEWS)), 'csr key is EC secp384r1'],
      [
        'a URI SAN other than the requested identity',
        () => req(csrOf(RATINGS)),
        `csr URI SAN "${RATINGS}" does not match the requested identity "${REVIEWS}"`,
      ],
      [
        'a broken self-signature',
        async () => req(tamperedSignature(await csrOf(REVIEWS))),
        'csr signature does not verify with its own public key',
      ],
      [
        'an identity that is not a SPIFFE ID',
        () => req(csrOf(REVIEWS), 'bookinfo/reviews'),
        'identity: SPIFFE ID "bookinfo/reviews": must start with "spiffe://"',
      ],
      [
        'an identity with a bad namespace',
        () => req(csrOf(REVIEWS), `spiffe://${TD}/ns/Book_Info/sa/reviews`),
        'namespace "Book_Info" is not a DNS-1123 label',
      ],
      [
        'an identity in another trust domain',
        () => req(csrOf(OTHER_TD), OTHER_TD),
        'is in trust domain "example.org"; this CA issues for "cluster.local"',
      ],
    ];
    it.each(cases)('%s', async (_name, request, message) => {
      const r = await createCertificate(cp.client, await request(), bearer);
      expectRefused(r, grpc.status.INVALID_ARGUMENT, ControlPlaneErrorCodes.CSR_INVALID, message);
    });
  });

  describe('node authentication', () => {
    it.each([
      ['no authorization metadata', undefined, 'missing "authorization" metadata'],
      ['a non-bearer scheme', 'Basic dXNlcjpwYXNz', 'malformed "authorization" metadata'],
      ['a token of the wrong shape', 'Bearer short', 'malformed node token'],
      ['an unknown token', `Bearer ${randomBytes(32).toString('base64url')}`, 'unknown node token'],
    ])('refuses %s: UNAUTHENTICATED, audited without a node', async (_name, authorization, message) => {
      const before = cp.logs.length;
      const r = await createCertificate(cp.client, await csrFor(REVIEWS), authorization);
      expectRefused(r, grpc.status.UNAUTHENTICATED, ControlPlaneErrorCodes.UNAUTHENTICATED, message);
      const audit = cp.logs.slice(before).filter((l) => l.audit === true);
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        level: 'warn',
        event: 'certificate_refused',
        code: ControlPlaneErrorCodes.UNAUTHENTICATED,
        identity: REVIEWS,
      });
      expect(audit[0].node).toBeUndefined();
    });

    it('refuses a token after revoke, and a replaced token after reissue', async () => {
      const first = cp.auth.issueNodeToken('node-b');
      const csr = await csrFor(RATINGS);
      expect((await createCertificate(cp.client, csr, `Bearer ${first.token}`)).error).toBeUndefined();
      const second = cp.auth.issueNodeToken('node-b');
      expectRefused(
        await createCertificate(cp.client, csr, `Bearer ${first.token}`),
        grpc.status.UNAUTHENTICATED,
        ControlPlaneErrorCodes.UNAUTHENTICATED,
        'unknown node token',
      );
      expect((await createCertificate(cp.client, csr, `Bearer ${second.token}`)).error).toBeUndefined();
      expect(cp.auth.revoke('node-b')).toBe(true);
      expect(cp.auth.revoke('node-b')).toBe(false);
      expect(fs.existsSync(second.tokenFile)).toBe(false);
      expectRefused(
        await createCertificate(cp.client, csr, `Bearer ${second.token}`),
        grpc.status.UNAUTHENTICATED,
        ControlPlaneErrorCodes.UNAUTHENTICATED,
        'unknown node token',
      );
    });

    it('refuses node names that are not Kubernetes node names (they become paths)', () => {
      for (const bad of ['../escape', 'Node-A', '', 'a/b']) {
        const e = thrown(() => cp.auth.issueNodeToken(bad));
        expect(e).toBeInstanceOf(ControlPlaneError);
        expect((e as ControlPlaneError).code).toBe(ControlPlaneErrorCodes.INVALID_OPTION);
      }
      expect(fs.existsSync(path.join(stateDir, 'escape'))).toBe(false);
    });
  });

  it('keeps state private: directories 0700, files 0600, token hashes only', () => {
    const mode = (p: string) => fs.statSync(p).mode & 0o777;
    expect(mode(path.join(stateDir, 'ca'))).toBe(0o700);
    expect(mode(path.join(stateDir, 'ca', 'root-key.pem'))).toBe(0o600);
    expect(mode(path.join(stateDir, 'ca', 'root-cert.pem'))).toBe(0o600);
    expect(mode(path.join(stateDir, 'node-tokens.json'))).toBe(0o600);
    expect(mode(path.join(stateDir, 'nodes', 'node-a'))).toBe(0o700);
    expect(mode(path.join(stateDir, 'nodes', 'node-a', 'token'))).toBe(0o600);
    const token = bearer.slice('Bearer '.length);
    const stored = fs.readFileSync(path.join(stateDir, 'node-tokens.json'), 'utf8');
    expect(stored).not.toContain(token);
    expect(JSON.parse(stored).nodes['node-a'].sha256).toBe(createHash('sha256').update(token).digest('hex'));
    // No temporary files left behind by the atomic writes.
    expect(fs.readdirSync(path.join(stateDir, 'ca')).sort()).toEqual(['root-cert.pem', 'root-key.pem']);
  });

  it('keeps its root and node tokens across a restart', async () => {
    const before = cp.ca.rootFingerprint;
    const issued = await createCertificate(cp.client, await csrFor(REVIEWS), bearer);
    const keyBefore = fs.readFileSync(path.join(stateDir, 'ca', 'root-key.pem'));
    await cp.stop();
    cp = await startControlPlane(stateDir);
    expect(cp.ca.rootFingerprint).toBe(before);
    expect(fs.readFileSync(path.join(stateDir, 'ca', 'root-key.pem')).equals(keyBefore)).toBe(true);
    expect(cp.logs.some((l) => l.msg === 'loaded the root CA' && l.fingerprint === before)).toBe(true);
    // A certificate from before the restart verifies against the bundle served after it ...
    expect((await verifySvidChain(issued.response!.certChain, cp.ca.trustBundle)).identity.uri).toBe(REVIEWS);
    // ... and the node's token still works.
    const after = await createCertificate(cp.client, await csrFor(REVIEWS), bearer);
    expect(after.error).toBeUndefined();
    expect(after.response!.trustBundle).toEqual(issued.response!.trustBundle);
  });
});

describe('CA state errors at start', () => {
  async function freshState(): Promise<string> {
    const dir = tempDir();
    await CertificateAuthority.open({ stateDir: dir, identityDirectory: directory, logger: silentLogger });
    return dir;
  }
  const open = (stateDir: string, trustDomain = TD) =>
    rejection(CertificateAuthority.open({ stateDir, trustDomain, identityDirectory: directory, logger: silentLogger }));
  function expectCaState(e: unknown, ...fragments: string[]): void {
    expect(e).toBeInstanceOf(ControlPlaneError);
    expect((e as ControlPlaneError).code).toBe(ControlPlaneErrorCodes.CA_STATE);
    for (const f of fragments) expect((e as ControlPlaneError).message).toContain(f);
  }

  it('a corrupt root-key.pem: CA_STATE naming the file, and nothing is regenerated', async () => {
    const dir = await freshState();
    const keyFile = path.join(dir, 'ca', 'root-key.pem');
    const certFile = path.join(dir, 'ca', 'root-cert.pem');
    const cert = fs.readFileSync(certFile, 'utf8');
    fs.writeFileSync(keyFile, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    expectCaState(await open(dir), keyFile, 'is not a PEM private key', 'restore it from a backup');
    expect(fs.readFileSync(keyFile, 'utf8')).toContain('AAAA');
    expect(fs.readFileSync(certFile, 'utf8')).toBe(cert);
  });

  it('a root key that does not match the certificate', async () => {
    const a = await freshState();
    const b = await freshState();
    fs.copyFileSync(path.join(b, 'ca', 'root-key.pem'), path.join(a, 'ca', 'root-key.pem'));
    expectCaState(await open(a), 'root-cert.pem does not belong to the key in', 'root-key.pem');
  });

  it('a corrupt root-cert.pem', async () => {
    const dir = await freshState();
    fs.writeFileSync(path.join(dir, 'ca', 'root-cert.pem'), 'garbage');
    expectCaState(await open(dir), 'root-cert.pem is not a PEM certificate');
  });

  it('one of the two files missing', async () => {
    const dir = await freshState();
    fs.rmSync(path.join(dir, 'ca', 'root-key.pem'));
    expectCaState(await open(dir), 'root-cert.pem exists but', 'root-key.pem is missing');
    expect(fs.existsSync(path.join(dir, 'ca', 'root-key.pem'))).toBe(false);
  });

  it('a root key readable by others, or an open directory', async () => {
    const dir = await freshState();
    const keyFile = path.join(dir, 'ca', 'root-key.pem');
    fs.chmodSync(keyFile, 0o644);
    expectCaState(await open(dir), `chmod 600 ${keyFile}`);
    fs.chmodSync(keyFile, 0o600);
    fs.chmodSync(path.join(dir, 'ca'), 0o755);
    expectCaState(await open(dir), `chmod 700 ${path.join(dir, 'ca')}`);
  });

  it('a root made for another trust domain', async () => {
    const dir = await freshState();
    expectCaState(await open(dir, 'example.org'), `not Ambit's root for trust domain "example.org"`);
  });

  it('bad options are INVALID_OPTION', async () => {
    const e = await rejection(
      CertificateAuthority.open({ stateDir: tempDir(), trustDomain: 'Bad Domain', identityDirectory: directory }),
    );
    expect((e as ControlPlaneError).code).toBe(ControlPlaneErrorCodes.INVALID_OPTION);
    const f = await rejection(
      CertificateAuthority.open({ stateDir: tempDir(), identityDirectory: directory, defaultTtlSeconds: 10 * DAY_S }),
    );
    expect((f as ControlPlaneError).message).toContain('exceeds maxTtlSeconds');
  });

  it('a corrupt or world-readable node-tokens.json', () => {
    const dir = tempDir();
    const file = path.join(dir, 'node-tokens.json');
    fs.writeFileSync(file, '{"version":1,"nodes":{"node-a":{"sha256":"zz"}}}', { mode: 0o600 });
    const corrupt = thrown(() => new BootstrapTokenAuthenticator(dir));
    expectCaState(corrupt, `${file} is corrupt`, 'node "node-a"');
    fs.writeFileSync(file, '{"version":1,"nodes":{}}');
    fs.chmodSync(file, 0o644);
    const open = thrown(() => new BootstrapTokenAuthenticator(dir));
    expectCaState(open, `chmod 600 ${file}`);
  });
});

describe('verifySvidChain refuses what it must', () => {
  let stateDir: string;
  let chain: string[];
  let bundle: string[];
  beforeAll(async () => {
    stateDir = tempDir();
    const ca = await CertificateAuthority.open({ stateDir, identityDirectory: directory });
    const issued = await ca.issue({ node: 'node-a', ...(await csrFor(REVIEWS)) });
    chain = issued.certChain;
    bundle = issued.trustBundle;
  });
  const refusal = async (p: Promise<unknown>, fragment: string) => {
    const e = await rejection(p);
    expect(e).toBeInstanceOf(AmbitError);
    expect((e as Error).message).toContain(fragment);
  };

  it('accepts the chain without its root, anchoring at the bundle', async () => {
    expect((await verifySvidChain(chain[0], bundle)).identity.uri).toBe(REVIEWS);
  });

  it('refuses a chain from another root', async () => {
    const other = await CertificateAuthority.open({ stateDir: tempDir(), identityDirectory: directory });
    // Same trust domain, so the same root name: only the signature tells the roots apart.
    await refusal(verifySvidChain(chain[0], other.trustBundle), 'the signature of the leaf certificate (serial');
    await refusal(verifySvidChain(chain, other.trustBundle), 'the signature of chain certificate 1 (serial');
    const foreign = await CertificateAuthority.open({ stateDir: tempDir(), trustDomain: 'example.org', identityDirectory: directory });
    await refusal(
      verifySvidChain(chain[0], foreign.trustBundle),
      'no trust-bundle root is named "O=Ambit, CN=Ambit root CA cluster.local"',
    );
  });

  it('refuses outside the validity window', async () => {
    const leaf = new X509Certificate(chain[0]);
    await refusal(verifySvidChain(chain, bundle, { now: new Date(Date.parse(leaf.validTo) + 1000) }), 'expired at');
    await refusal(verifySvidChain(chain, bundle, { now: new Date(Date.parse(leaf.validFrom) - 1000) }), 'is not valid before');
  });

  it('refuses a root as the leaf, and a chain out of order', async () => {
    await refusal(verifySvidChain(bundle, bundle), 'the leaf certificate is itself in the trust bundle');
    await refusal(verifySvidChain([chain[0], chain[1], chain[0]], bundle), 'is a trust-bundle root but is not the last one');
  });

  it('refuses a CA certificate as the leaf, even one the root signed', async () => {
    // Signed with the real root key, read from the state directory as an attacker with it would.
    const rootKey = await importEcdsaSigningKey(createPrivateKey(fs.readFileSync(path.join(stateDir, 'ca', 'root-key.pem'))));
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const caLeaf = await x509.X509CertificateGenerator.create({
      issuer: new x509.X509Certificate(bundle[0]).subjectName,
      subject: '',
      publicKey: keys.publicKey,
      signingKey: rootKey,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: REVIEWS }], true),
      ],
    });
    await refusal(verifySvidChain(toPem(caLeaf), bundle), 'the leaf certificate is a CA certificate, not a workload certificate');
  });

  it('refuses a leaf whose signature was altered', async () => {
    const der = Buffer.from(pemBlocks(chain[0])[0].der);
    der[der.length - 3] ^= 0x01;
    await refusal(verifySvidChain(pem('CERTIFICATE', der), bundle), 'does not verify');
  });
});

// --- helpers -------------------------------------------------------------------------------

async function csrFor(identity: string): Promise<{ csr: string; identity: string }> {
  return { csr: (await createKeyAndCsr(identity)).csrPem, identity };
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

async function rsaCsr(identity: string): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  );
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity }])],
  });
  return csr.toString('pem');
}

async function ecCsr(namedCurve: string, identity: string): Promise<string> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve }, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity }])],
  });
  return csr.toString('pem');
}

/** Flips a bit near the end of the DER: inside the signature's `s`, so the request still parses. */
function tamperedSignature(csrPem: string): string {
  const der = Buffer.from(pemBlocks(csrPem)[0].der);
  der[der.length - 3] ^= 0x01;
  return pem('CERTIFICATE REQUEST', der);
}
