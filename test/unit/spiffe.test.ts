// common/identity/spiffe.ts: SPIFFE IDs of the form spiffe://<td>/ns/<ns>/sa/<sa>, and the
// identity of a certificate (its one URI SAN).
import { webcrypto } from 'node:crypto';
import { AmbitError, ErrorCodes } from '../../common/errors';
import {
  checkTrustDomain,
  formatSpiffeId,
  isDns1123Label,
  isDns1123Subdomain,
  parseSpiffeId,
  spiffeId,
  spiffeIdOfCertificate,
} from '../../common/identity/spiffe';
import { ECDSA_P256, x509 } from '../../common/identity/x509';
import { thrown } from '../support/thrown';

/** The message of the AmbitError INVALID_ARGUMENT that `fn` throws. */
function rejection(fn: () => unknown): string {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(AmbitError);
  expect((e as AmbitError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
  return (e as AmbitError).message;
}

describe('parseSpiffeId', () => {
  it('splits a valid ID into trust domain, namespace and service account', () => {
    expect(parseSpiffeId('spiffe://cluster.local/ns/default/sa/bookinfo-productpage')).toEqual({
      trustDomain: 'cluster.local',
      namespace: 'default',
      serviceAccount: 'bookinfo-productpage',
      uri: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage',
    });
  });

  it('accepts the trust-domain characters of the SPIFFE spec and dotted service accounts', () => {
    const id = parseSpiffeId('spiffe://prod_1.example-corp.io/ns/a1/sa/build.bot-2');
    expect(id.trustDomain).toBe('prod_1.example-corp.io');
    expect(id.serviceAccount).toBe('build.bot-2');
  });

  it.each([
    ['https://cluster.local/ns/a/sa/b', 'must start with "spiffe://"'],
    ['SPIFFE://cluster.local/ns/a/sa/b', 'the scheme must be lowercase'],
    ['spiffe://Cluster.Local/ns/a/sa/b', 'trust domain "Cluster.Local" must be lowercase'],
    ['spiffe://cluster.local:8080/ns/a/sa/b', 'trust domain "cluster.local:8080" must not carry a port'],
    ['spiffe://user@cluster.local/ns/a/sa/b', 'trust domain "user@cluster.local" must not carry user info'],
    ['spiffe://clu$ter/ns/a/sa/b', `trust domain "clu$ter" may only contain`],
    ['spiffe:///ns/a/sa/b', 'trust domain "" is empty'],
    ['spiffe://cluster.local', 'the path must be /ns/<namespace>/sa/<service-account>'],
    ['spiffe://cluster.local/ns/a/sa/b/extra', 'the path must be /ns/<namespace>/sa/<service-account>'],
    ['spiffe://cluster.local/sa/b/ns/a', 'the path must be /ns/<namespace>/sa/<service-account>'],
    ['spiffe://cluster.local/ns/a/sa/b/', 'empty segment'],
    ['spiffe://cluster.local/ns//sa/b', 'empty segment'],
    ['spiffe://cluster.local/ns/a/sa/b?x=1', 'must not have a query or fragment'],
    ['spiffe://cluster.local/ns/a/sa/b#frag', 'must not have a query or fragment'],
    ['spiffe://cluster.local/ns/Default/sa/b', 'namespace "Default" is not a DNS-1123 label'],
    ['spiffe://cluster.local/ns/a.b/sa/b', 'namespace "a.b" is not a DNS-1123 label'],
    ['spiffe://cluster.local/ns/-a/sa/b', 'namespace "-a" is not a DNS-1123 label'],
    ['spiffe://cluster.local/ns/a/sa/..', 'service account ".." is not a DNS-1123 subdomain'],
    ['spiffe://cluster.local/ns/a/sa/b_c', 'service account "b_c" is not a DNS-1123 subdomain'],
    ['spiffe://cluster.local/ns/a/sa/b%2Fc', 'service account "b%2Fc" is not a DNS-1123 subdomain'],
  ])('rejects %s, naming the bad part', (uri, expected) => {
    const message = rejection(() => parseSpiffeId(uri));
    expect(message).toContain(expected);
    expect(message).toContain('SPIFFE ID "');
  });

  it('rejects IDs longer than 2048 characters without echoing all of them', () => {
    const long = `spiffe://cluster.local/ns/a/sa/${'b'.repeat(2100)}`;
    const message = rejection(() => parseSpiffeId(long));
    expect(message).toContain('longer than 2048');
    expect(message.length).toBeLessThan(300);
  });

  it('rejects a namespace longer than 63 characters', () => {
    expect(rejection(() => parseSpiffeId(`spiffe://td/ns/${'a'.repeat(64)}/sa/b`))).toContain('not a DNS-1123 label');
    expect(parseSpiffeId(`spiffe://td/ns/${'a'.repeat(63)}/sa/b`).namespace).toHaveLength(63);
  });
});

describe('spiffeId / formatSpiffeId', () => {
  it('formats parts into the canonical URI and round-trips through parse', () => {
    const id = spiffeId('cluster.local', 'bookinfo', 'reviews');
    expect(id.uri).toBe('spiffe://cluster.local/ns/bookinfo/sa/reviews');
    expect(formatSpiffeId({ trustDomain: 'example.org', namespace: 'x', serviceAccount: 'y' })).toBe('spiffe://example.org/ns/x/sa/y');
    expect(parseSpiffeId(id.uri)).toEqual(id);
    expect(Object.isFrozen(id)).toBe(true);
  });

  it('validates each part', () => {
    expect(rejection(() => spiffeId('Bad', 'a', 'b'))).toBe('trust domain "Bad" must be lowercase');
    expect(rejection(() => spiffeId('td', 'a_b', 'b'))).toContain('namespace "a_b" is not a DNS-1123 label');
    expect(rejection(() => spiffeId('td', 'a', 'B'))).toContain('service account "B" is not a DNS-1123 subdomain');
  });
});

describe('checkTrustDomain and DNS name rules', () => {
  it('returns a valid trust domain and rejects an over-long one', () => {
    expect(checkTrustDomain('cluster.local')).toBe('cluster.local');
    expect(rejection(() => checkTrustDomain('a'.repeat(256)))).toContain('longer than 255');
  });

  it('tells labels from subdomains', () => {
    expect(isDns1123Label('kube-system')).toBe(true);
    expect(isDns1123Label('a.b')).toBe(false);
    expect(isDns1123Label('a-')).toBe(false);
    expect(isDns1123Subdomain('node-1.zone-a.example')).toBe(true);
    expect(isDns1123Subdomain('a..b')).toBe(false);
    expect(isDns1123Subdomain('')).toBe(false);
    expect(isDns1123Subdomain('a'.repeat(254))).toBe(false);
  });
});

describe('spiffeIdOfCertificate', () => {
  async function certWithSans(names: x509.JsonGeneralNames): Promise<x509.X509Certificate> {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    return x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=test',
      keys,
      signingAlgorithm: ECDSA_P256,
      extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, true)] : [],
    });
  }

  let certNone: x509.X509Certificate;
  let certTwo: x509.X509Certificate;
  beforeAll(async () => {
    certNone = await certWithSans([]);
    certTwo = await certWithSans([
      { type: 'url', value: 'spiffe://cluster.local/ns/a/sa/b' },
      { type: 'url', value: 'spiffe://cluster.local/ns/a/sa/c' },
    ]);
  });

  it('reads the identity of a certificate with one URI SAN (object or PEM)', async () => {
    const cert = await certWithSans([
      { type: 'dns', value: 'reviews.bookinfo.svc' },
      { type: 'url', value: 'spiffe://cluster.local/ns/bookinfo/sa/reviews' },
    ]);
    expect(spiffeIdOfCertificate(cert).uri).toBe('spiffe://cluster.local/ns/bookinfo/sa/reviews');
    expect(spiffeIdOfCertificate(cert.toString('pem')).serviceAccount).toBe('reviews');
  });

  it('rejects a certificate with no URI SAN or with two', () => {
    expect(rejection(() => spiffeIdOfCertificate(certNone))).toContain('has 0 URI SANs');
    expect(rejection(() => spiffeIdOfCertificate(certTwo))).toContain('has 2 URI SANs');
  });

  it('rejects a URI SAN that is not an Ambit SPIFFE ID', async () => {
    const cert = await certWithSans([{ type: 'url', value: 'spiffe://cluster.local/workload/42' }]);
    expect(rejection(() => spiffeIdOfCertificate(cert))).toContain('the path must be /ns/<namespace>/sa/<service-account>');
  });

  it('rejects PEM text that is not exactly one certificate', () => {
    expect(rejection(() => spiffeIdOfCertificate('hello'))).toBe('expected one PEM certificate, got 0');
    expect(rejection(() => spiffeIdOfCertificate('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n'))).toContain(
      'does not hold valid base64',
    );
  });
});
