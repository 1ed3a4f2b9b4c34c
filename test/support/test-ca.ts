/**
 * A throwaway CA for tests that need real mTLS: a self-signed ECDSA P-256 root and leaves shaped
 * like the control plane's (control-plane/ca/leaf.ts): empty subject, one critical URI SAN, not a
 * CA, digitalSignature + keyAgreement, EKU serverAuth + clientAuth. Knobs make the bad ones a peer
 * must refuse: another trust domain (another TestCa), expired, wrong/no/several SANs, and "signed
 * by a root the peer does not trust" (issue from one TestCa, hand out another's bundle).
 */
import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { spiffeId, SpiffeId } from '../../common/identity/spiffe';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import { ECDSA_P256, importEcdsaPublicKey, importEcdsaSigningKey, toPem, WebCryptoKey, x509 } from '../../common/identity/x509';

const generateKeyPairAsync = promisify(generateKeyPair);
const HOUR_MS = 3_600_000;

export interface IssueOptions {
  /** URI SANs in place of the identity's; `[]` leaves the SAN extension out. */
  uriSans?: readonly string[];
  /** DNS SANs added next to the URI SANs (a SAN a SPIFFE peer must not look at). */
  dnsSans?: readonly string[];
  /** Valid from one hour ago by default. */
  notBefore?: Date;
  /** Valid for one day by default. */
  notAfter?: Date;
  /** Shorthand: valid from two days ago until one day ago. */
  expired?: boolean;
  /** The trust bundle handed out with the certificate; this CA's root by default. */
  trustBundlePem?: readonly string[];
}

export class TestCa {
  private constructor(
    readonly trustDomain: string,
    /** The root certificate, PEM. */
    readonly rootPem: string,
    private readonly root: x509.X509Certificate,
    private readonly signingKey: WebCryptoKey,
  ) {}

  static async create(trustDomain = 'cluster.local'): Promise<TestCa> {
    const { privateKey, publicKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
    const webPublic = await importEcdsaPublicKey(publicKey);
    const signingKey = await importEcdsaSigningKey(privateKey);
    const now = Date.now();
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: [{ O: ['Ambit test'] }, { CN: [`Ambit test root ${trustDomain}`] }],
      notBefore: new Date(now - 7 * 24 * HOUR_MS),
      notAfter: new Date(now + 7 * 24 * HOUR_MS),
      signingAlgorithm: ECDSA_P256,
      keys: { privateKey: signingKey, publicKey: webPublic },
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(webPublic),
      ],
    });
    return new TestCa(trustDomain, toPem(root), root, signingKey);
  }

  /** This CA's trust bundle. */
  get bundle(): readonly string[] {
    return [this.rootPem];
  }

  /** The SPIFFE ID of `ns`/`sa` in this CA's trust domain. */
  id(namespace: string, serviceAccount: string): SpiffeId {
    return spiffeId(this.trustDomain, namespace, serviceAccount);
  }

  /** A workload certificate for `ns`/`sa` of this trust domain, bent by `opts`. */
  async issue(namespace: string, serviceAccount: string, opts: IssueOptions = {}): Promise<WorkloadCertificate> {
    const identity = this.id(namespace, serviceAccount);
    const now = Date.now();
    const notBefore = opts.notBefore ?? new Date(now - (opts.expired ? 48 : 1) * HOUR_MS);
    const notAfter = opts.notAfter ?? new Date(now + (opts.expired ? -24 : 24) * HOUR_MS);
    const { privateKey, publicKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
    const webPublic = await importEcdsaPublicKey(publicKey);
    const names: x509.JsonGeneralName[] = [
      ...(opts.uriSans ?? [identity.uri]).map((value) => ({ type: 'url' as const, value })),
      ...(opts.dnsSans ?? []).map((value) => ({ type: 'dns' as const, value })),
    ];
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      // With no SAN at all the subject must name something; the CN is what a hostname check would read.
      subject: names.length === 0 ? `CN=${serviceAccount}.${namespace}` : '',
      issuer: this.root.subjectName,
      notBefore,
      notAfter,
      publicKey: webPublic,
      signingKey: this.signingKey,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, true)] : []),
        await x509.SubjectKeyIdentifierExtension.create(webPublic),
        await x509.AuthorityKeyIdentifierExtension.create(this.root),
      ],
    });
    return Object.freeze({
      identity,
      keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      certChainPem: [toPem(leaf)],
      trustBundlePem: opts.trustBundlePem ?? this.bundle,
      notBefore,
      notAfter,
    });
  }
}

/** `cert` trusting `bundle` instead (e.g. two trust domains federated). */
export function withTrustBundle(cert: WorkloadCertificate, bundle: readonly string[]): WorkloadCertificate {
  return Object.freeze({ ...cert, trustBundlePem: bundle });
}

function serial(): string {
  // A leading 0x01..0x7f octet keeps the DER INTEGER positive and non-zero.
  const b = randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x01;
  return b.toString('hex');
}
