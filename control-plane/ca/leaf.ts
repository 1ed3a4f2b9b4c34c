/**
 * The workload certificate (X.509-SVID) the CA signs: empty subject, the SPIFFE ID as the only
 * (critical) SAN, not a CA, usable for TLS on both ends of an HBONE connection.
 */
import { randomBytes } from 'node:crypto';
import type { SpiffeId } from '../../common/identity/spiffe';
import { ECDSA_P256, x509 } from '../../common/identity/x509';
import type { RootCa } from './root';

export interface LeafValidity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export async function signLeaf(
  root: RootCa,
  publicKey: x509.PublicKey,
  identity: SpiffeId,
  validity: LeafValidity,
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    // SPIFFE X509-SVID §2: the SVID is named by its URI SAN; RFC 5280 §4.2.1.6 then makes the
    // SAN critical because the subject is empty.
    subject: '',
    // The root's own encoded name, byte for byte, so issuer/subject matching never depends on
    // how a verifier canonicalises names.
    issuer: root.cert.subjectName,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey,
    signingKey: root.signingKey,
    signingAlgorithm: ECDSA_P256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      // keyAgreement alongside digitalSignature: SPIFFE X509-SVID §4.3 allows it for leaf SVIDs.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity.uri }], true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      new x509.AuthorityKeyIdentifierExtension(root.keyId),
    ],
  });
}

/**
 * 128 random bits (CA/Browser Forum asks for at least 64). When the top bit is set the library
 * prepends a zero octet to keep the DER INTEGER positive (17 octets, within RFC 5280's 20). An
 * all-zero value (2^-128) is bumped, since the library would substitute its own.
 */
function randomSerial(): string {
  const b = randomBytes(16);
  if (b.every((x) => x === 0)) b[15] = 1;
  return b.toString('hex');
}
