// common/identity/csr.ts: an agent's fresh P-256 key and the PKCS#10 request for its identity.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { AmbitError, ErrorCodes } from '../../common/errors';
import { createKeyAndCsr } from '../../common/identity/csr';
import { spiffeId } from '../../common/identity/spiffe';
import { OID, pemBlocks, spkiDer, uriSans, x509 } from '../../common/identity/x509';

const IDENTITY = 'spiffe://cluster.local/ns/bookinfo/sa/reviews';

describe('createKeyAndCsr', () => {
  let keyPem: string;
  let csrPem: string;
  let csr: x509.Pkcs10CertificateRequest;
  beforeAll(async () => {
    ({ keyPem, csrPem } = await createKeyAndCsr(IDENTITY));
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  });

  it('returns one PEM block of each kind', () => {
    expect(pemBlocks(csrPem).map((b) => b.label)).toEqual(['CERTIFICATE REQUEST']);
    expect(pemBlocks(keyPem).map((b) => b.label)).toEqual(['PRIVATE KEY']);
  });

  it('names the identity as the only URI SAN, critical, with an empty subject', () => {
    expect(uriSans(csr)).toEqual([IDENTITY]);
    expect(csr.getExtension(OID.subjectAltName)?.critical).toBe(true);
    expect(csr.subject).toBe('');
  });

  it('uses an ECDSA P-256 key whose private half is the returned PEM', () => {
    const pub = createPublicKey({ key: spkiDer(csr), format: 'der', type: 'spki' });
    expect(pub.asymmetricKeyType).toBe('ec');
    expect(pub.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const priv = createPrivateKey(keyPem);
    expect(createPublicKey(priv).export({ type: 'spki', format: 'der' }).equals(spkiDer(csr))).toBe(true);
  });

  it('is self-signed with ECDSA SHA-256', async () => {
    expect(await csr.verify()).toBe(true);
    expect(csr.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
  });

  it('makes a new key for every request', async () => {
    const other = await createKeyAndCsr(spiffeId('cluster.local', 'bookinfo', 'reviews'));
    expect(other.keyPem).not.toBe(keyPem);
    expect(uriSans(new x509.Pkcs10CertificateRequest(other.csrPem))).toEqual([IDENTITY]);
  });

  it('rejects an invalid identity before generating anything', async () => {
    const e = await createKeyAndCsr('spiffe://cluster.local/ns/Bad/sa/x').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AmbitError);
    expect((e as AmbitError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    expect((e as AmbitError).message).toContain('namespace "Bad"');
  });
});
