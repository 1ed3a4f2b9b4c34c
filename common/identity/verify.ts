/**
 * Verifies an X.509-SVID chain against a trust bundle, the way a peer must before trusting the
 * identity in it: each certificate signed by the next, every issuer a CA allowed to sign
 * certificates, every certificate inside its validity window, no unknown critical extension, and
 * the path ending at one of the bundle's roots (RFC 5280 §6.1, reduced to what SPIFFE needs: no
 * name constraints or policies are issued, so none are processed).
 */
import { AmbitError, ErrorCodes } from '../errors';
import { SpiffeId, spiffeIdOfCertificate } from './spiffe';
import { OID, parseCertificates, x509 } from './x509';

export interface VerifiedSvid {
  readonly identity: SpiffeId;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Lowercase hex. */
  readonly serialNumber: string;
  /** The bundle root the chain ends at. */
  readonly root: x509.X509Certificate;
}

export interface VerifyOptions {
  /** The time to check validity at; now by default. */
  now?: Date;
}

/** Longer chains are refused outright: Ambit issues leaf + root, and an attacker's chain costs CPU. */
const MAX_CHAIN = 8;

const UNDERSTOOD = new Set<string>(Object.values(OID));

/**
 * Verifies `chain` (PEM, leaf first; the root may or may not be included) against the roots of
 * `trustBundle`, returning the leaf's SPIFFE identity and validity. Throws naming what failed.
 */
export async function verifySvidChain(
  chain: string | readonly string[],
  trustBundle: string | readonly string[],
  opts: VerifyOptions = {},
): Promise<VerifiedSvid> {
  const now = opts.now ?? new Date();
  const certs = parseCertificates(chain);
  const roots = parseCertificates(trustBundle);
  if (certs.length === 0) throw fail('the chain holds no certificate');
  if (roots.length === 0) throw fail('the trust bundle holds no certificate');
  if (certs.length > MAX_CHAIN) throw fail(`the chain has ${certs.length} certificates; at most ${MAX_CHAIN} are accepted`);

  // The path: the chain up to a bundle root, plus that root when the chain left it out.
  const path = [...certs];
  const anchorAt = path.findIndex((c) => roots.some((r) => sameDer(r, c)));
  if (anchorAt === 0) {
    throw fail('the leaf certificate is itself in the trust bundle; a workload certificate must be issued by a bundle root');
  }
  if (anchorAt !== -1 && anchorAt !== path.length - 1) {
    throw fail(`certificate ${anchorAt} of the chain is a trust-bundle root but is not the last one`);
  }
  if (anchorAt === -1) path.push(await findAnchor(path[path.length - 1], path.length - 1, roots));

  for (let i = 0; i < path.length; i++) {
    const cert = path[i];
    checkValidity(cert, i, now);
    checkCriticalExtensions(cert, i);
    if (i === 0) {
      checkLeaf(cert);
    } else {
      checkIssuerFlags(cert, i, i - 1);
      await checkSignedBy(path[i - 1], i - 1, cert);
    }
  }

  const leaf = path[0];
  let identity: SpiffeId;
  try {
    identity = spiffeIdOfCertificate(leaf);
  } catch (e) {
    throw fail(`the leaf certificate has no usable SPIFFE ID: ${(e as Error).message}`, e);
  }
  return {
    identity,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    serialNumber: leaf.serialNumber,
    root: path[path.length - 1],
  };
}

function checkValidity(cert: x509.X509Certificate, i: number, now: Date): void {
  if (now < cert.notBefore) throw fail(`${describe(cert, i)} is not valid before ${cert.notBefore.toISOString()}`);
  if (now > cert.notAfter) throw fail(`${describe(cert, i)} expired at ${cert.notAfter.toISOString()}`);
}

/** RFC 5280 §4.2: a certificate with a critical extension we do not process must be rejected. */
function checkCriticalExtensions(cert: x509.X509Certificate, i: number): void {
  const unknown = cert.extensions.find((e) => e.critical && !UNDERSTOOD.has(e.type));
  if (unknown !== undefined) throw fail(`${describe(cert, i)} has an unsupported critical extension ${unknown.type}`);
}

/** A workload certificate must not be able to sign others, and must be usable for TLS signatures. */
function checkLeaf(leaf: x509.X509Certificate): void {
  const bc = leaf.getExtension(x509.BasicConstraintsExtension);
  if (bc?.ca === true) throw fail('the leaf certificate is a CA certificate, not a workload certificate');
  const ku = leaf.getExtension(x509.KeyUsagesExtension);
  if (ku !== null && (ku.usages & x509.KeyUsageFlags.digitalSignature) === 0) {
    throw fail('the leaf certificate key usage does not allow digitalSignature');
  }
}

/**
 * RFC 5280 §4.2.1.3 and §4.2.1.9: an issuer is a CA with keyCertSign, within its path length.
 * `intermediatesBelow`: CA certificates between this issuer and the leaf.
 */
function checkIssuerFlags(issuer: x509.X509Certificate, i: number, intermediatesBelow: number): void {
  const bc = issuer.getExtension(x509.BasicConstraintsExtension);
  if (bc === null || !bc.ca) throw fail(`${describe(issuer, i)} issued a certificate but is not a CA (basicConstraints cA is not set)`);
  const ku = issuer.getExtension(x509.KeyUsagesExtension);
  if (ku !== null && (ku.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw fail(`${describe(issuer, i)} is a CA but its key usage does not allow keyCertSign`);
  }
  if (bc.pathLength !== undefined && intermediatesBelow > bc.pathLength) {
    throw fail(`${describe(issuer, i)} allows a path length of ${bc.pathLength}, the chain has ${intermediatesBelow} below it`);
  }
}

async function checkSignedBy(cert: x509.X509Certificate, i: number, issuer: x509.X509Certificate): Promise<void> {
  if (!sameName(cert.issuerName, issuer.subjectName)) {
    throw fail(`${describe(cert, i)} names issuer "${cert.issuer}" but the next certificate is "${issuer.subject}"`);
  }
  if (!(await signatureVerifies(cert, issuer))) {
    throw fail(`the signature of ${describe(cert, i)} does not verify with the key of "${issuer.subject}"`);
  }
}

/** The bundle root that issued `cert` (chain position `i`), which the chain left out. */
async function findAnchor(cert: x509.X509Certificate, i: number, roots: x509.X509Certificate[]): Promise<x509.X509Certificate> {
  const named = roots.filter((r) => sameName(cert.issuerName, r.subjectName));
  if (named.length === 0) throw fail(`no trust-bundle root is named "${cert.issuer}", the issuer of ${describe(cert, i)}`);
  for (const root of named) if (await signatureVerifies(cert, root)) return root;
  throw fail(`the signature of ${describe(cert, i)} does not verify with the key of any trust-bundle root named "${cert.issuer}"`);
}

async function signatureVerifies(cert: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  try {
    return await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    // An unsupported algorithm or malformed key fails the same way a bad signature does.
    return false;
  }
}

function sameDer(a: x509.X509Certificate, b: x509.X509Certificate): boolean {
  return Buffer.from(a.rawData).equals(Buffer.from(b.rawData));
}

/** Names compare by their DER: Ambit writes issuer names as byte copies of the root's subject. */
function sameName(a: x509.Name, b: x509.Name): boolean {
  return Buffer.from(a.toArrayBuffer()).equals(Buffer.from(b.toArrayBuffer()));
}

function describe(cert: x509.X509Certificate, i: number): string {
  const role = i === 0 ? 'the leaf certificate' : `chain certificate ${i}`;
  return `${role} (serial ${cert.serialNumber})`;
}

function fail(message: string, cause?: unknown): AmbitError {
  return new AmbitError(ErrorCodes.INVALID_ARGUMENT, `certificate chain rejected: ${message}`, { cause });
}
