// common/tls: the SPIFFE checks that replace the hostname check, and the TLS options built from a
// WorkloadCertificate. Certificates come from the test CA (crypto only, no I/O).
import { X509Certificate } from 'node:crypto';
import { parseSpiffeId } from '../../common/identity/spiffe';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import { TlsError, TlsErrorCodes } from '../../common/tls/errors';
import { workloadClientTlsOptions, workloadServerTlsOptions } from '../../common/tls/options';
import { checkPeerIdentity, expectedIdentities, spiffeIdOfDer, spiffeServerIdentityCheck } from '../../common/tls/peer-identity';
import { TestCa } from '../support/test-ca';
import { thrown } from '../support/thrown';

const B = parseSpiffeId('spiffe://x/ns/a/sa/b');
const WANTED = 'spiffe://cluster.local/ns/c/sa/d';

let ca: TestCa;
let cert: WorkloadCertificate;
beforeAll(async () => {
  ca = await TestCa.create();
  cert = await ca.issue('bookinfo', 'reviews');
});

function der(pem: string): Buffer {
  return new X509Certificate(pem).raw;
}

function tlsError(fn: () => unknown): TlsError {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(TlsError);
  return e as TlsError;
}

describe('checkPeerIdentity', () => {
  it('names both identities when the peer is not the expected one', () => {
    const e = tlsError(() => checkPeerIdentity(B, { identities: WANTED }));
    expect(e.code).toBe(TlsErrorCodes.PEER_IDENTITY);
    expect(e.message).toBe(`peer presented spiffe://x/ns/a/sa/b, expected ${WANTED}`);
  });

  it('accepts any of a list, and lists them when none matches', () => {
    expect(checkPeerIdentity(B, { identities: [WANTED, B.uri] })).toBe(B);
    expect(tlsError(() => checkPeerIdentity(B, { identities: [WANTED, 'spiffe://cluster.local/ns/e/sa/f'] })).message).toBe(
      `peer presented spiffe://x/ns/a/sa/b, expected one of ${WANTED}, spiffe://cluster.local/ns/e/sa/f`,
    );
  });

  it('refuses a foreign trust domain before looking at the identity', () => {
    const e = tlsError(() => checkPeerIdentity(B, { trustDomains: ['cluster.local'], identities: B.uri }));
    expect(e.message).toBe('peer presented spiffe://x/ns/a/sa/b from trust domain "x"; trusted: "cluster.local"');
    expect(checkPeerIdentity(B, { trustDomains: ['cluster.local', 'x'] })).toBe(B);
  });

  it('validates expected identities, so a typo fails before any connection', () => {
    expect(expectedIdentities(WANTED)).toEqual([WANTED]);
    expect(() => expectedIdentities('spiffe://cluster.local/ns/c/sa/')).toThrow(/empty segment/);
    expect(tlsError(() => expectedIdentities([])).message).toMatch(/no expected peer identity/);
  });
});

describe('spiffeIdOfDer and the checkServerIdentity replacement', () => {
  it('reads the single SPIFFE URI SAN and ignores DNS SANs', async () => {
    const withDns = await ca.issue('bookinfo', 'reviews', { dnsSans: ['reviews.bookinfo.svc'] });
    expect(spiffeIdOfDer(der(withDns.certChainPem[0])).uri).toBe('spiffe://cluster.local/ns/bookinfo/sa/reviews');
  });

  it.each([
    ['no URI SAN', [], /has 0 URI SANs/],
    ['two URI SANs', ['spiffe://cluster.local/ns/a/sa/b', 'spiffe://cluster.local/ns/a/sa/c'], /has 2 URI SANs/],
    ['a non-SPIFFE URI', ['https://reviews/'], /must start with "spiffe:\/\/"/],
  ])('refuses a certificate with %s', async (_what, uriSans, why) => {
    const odd = await ca.issue('bookinfo', 'reviews', { uriSans, dnsSans: ['reviews'] });
    const e = tlsError(() => spiffeIdOfDer(der(odd.certChainPem[0])));
    expect(e.code).toBe(TlsErrorCodes.NO_PEER_IDENTITY);
    expect(e.message).toMatch(why);
  });

  it('returns an error instead of checking the hostname', () => {
    const check = spiffeServerIdentityCheck({ identities: 'spiffe://cluster.local/ns/bookinfo/sa/reviews' });
    const raw = der(cert.certChainPem[0]);
    // The "hostname" is irrelevant: an IP the certificate does not name passes, the SPIFFE ID decides.
    expect(check('10.0.0.9', { raw } as never)).toBeUndefined();
    const wrong = spiffeServerIdentityCheck({ identities: WANTED })('reviews', { raw } as never);
    expect(wrong).toBeInstanceOf(TlsError);
    expect(wrong?.message).toBe(`peer presented spiffe://cluster.local/ns/bookinfo/sa/reviews, expected ${WANTED}`);
    expect(spiffeServerIdentityCheck({})('x', {} as never)?.message).toBe('the server presented no certificate');
  });
});

describe('workload TLS options', () => {
  it('pins TLS 1.3 and h2, trusts the bundle only, and requires client certificates on the server', () => {
    const server = workloadServerTlsOptions(cert);
    expect(server).toMatchObject({
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ALPNProtocols: ['h2'],
      requestCert: true,
      rejectUnauthorized: true,
      ca: [...cert.trustBundlePem],
      key: cert.keyPem,
    });
    const client = workloadClientTlsOptions(cert, { identities: WANTED });
    expect(client).toMatchObject({ minVersion: 'TLSv1.3', ALPNProtocols: ['h2'], rejectUnauthorized: true });
    expect(typeof client.checkServerIdentity).toBe('function');
  });

  it('sends the chain as one PEM text, leaf first', async () => {
    const chained: WorkloadCertificate = { ...cert, certChainPem: [cert.certChainPem[0].trimEnd(), ca.rootPem] };
    const text = workloadServerTlsOptions(chained).cert as string;
    expect(text.indexOf(cert.certChainPem[0].trim())).toBe(0);
    expect(text).toContain('-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----');
  });

  it('refuses a certificate with an empty chain or trust bundle', () => {
    expect(tlsError(() => workloadServerTlsOptions({ ...cert, certChainPem: [] })).code).toBe(TlsErrorCodes.CERTIFICATE);
    expect(tlsError(() => workloadClientTlsOptions({ ...cert, trustBundlePem: [] }, {})).message).toMatch(/empty trust bundle/);
  });
});
