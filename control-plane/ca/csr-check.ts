/**
 * What the CA accepts as a certificate request: one PEM PKCS#10 block, self-signed by an ECDSA
 * P-256 key, and — if it names a URI SAN at all — naming exactly the requested identity. Only
 * the key is taken from the CSR; everything else in the leaf is the CA's choice (Istio's CA works
 * the same way), so the CSR's subject and any DNS/IP SANs are ignored rather than copied.
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import type { SpiffeId } from '../../common/identity/spiffe';
import { PemBlock, pemBlocks, spkiDer, uriSans, x509 } from '../../common/identity/x509';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';

/** A CSR for one P-256 key is well under 1 KiB; anything this large is not one. */
export const MAX_CSR_BYTES = 16 * 1024;

/** Checks `csrPem` for `identity`; returns the public key to certify. */
export async function checkCsr(csrPem: string, identity: SpiffeId): Promise<x509.PublicKey> {
  if (csrPem.length === 0) throw invalid('csr is empty; send a PEM "CERTIFICATE REQUEST"');
  if (csrPem.length > MAX_CSR_BYTES) throw invalid(`csr is ${csrPem.length} bytes; at most ${MAX_CSR_BYTES} are accepted`);

  let blocks: PemBlock[];
  try {
    blocks = pemBlocks(csrPem);
  } catch (e) {
    throw invalid(`csr is not valid PEM: ${(e as Error).message}`, e);
  }
  if (blocks.length === 0) throw invalid('csr is not PEM (no "-----BEGIN CERTIFICATE REQUEST-----" block)');
  if (blocks.length > 1) throw invalid(`csr must hold exactly one PEM block, it holds ${blocks.length}`);
  if (blocks[0].label !== 'CERTIFICATE REQUEST') {
    throw invalid(`csr is a PEM "${blocks[0].label}", not a "CERTIFICATE REQUEST"`);
  }

  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(blocks[0].der);
  } catch (e) {
    throw invalid(`csr is not a PKCS#10 certificate request: ${(e as Error).message}`, e);
  }

  checkKeyType(csr);
  let signed: boolean;
  try {
    signed = await csr.verify();
  } catch (e) {
    throw invalid(`csr signature cannot be checked: ${(e as Error).message}`, e);
  }
  if (!signed) throw invalid('csr signature does not verify with its own public key');

  let uris: string[];
  try {
    uris = uriSans(csr);
  } catch (e) {
    throw invalid(`csr subjectAltName cannot be read: ${(e as Error).message}`, e);
  }
  if (uris.length > 1) throw invalid(`csr has ${uris.length} URI SANs; an identity certificate has exactly one`);
  if (uris.length === 1 && uris[0] !== identity.uri) {
    throw invalid(`csr URI SAN "${truncate(uris[0])}" does not match the requested identity "${identity.uri}"`);
  }
  return csr.publicKey;
}

/** Ambit issues P-256 only: one curve to support everywhere, the one TLS 1.3 stacks all have. */
function checkKeyType(csr: x509.Pkcs10CertificateRequest): void {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spkiDer(csr), format: 'der', type: 'spki' });
  } catch (e) {
    throw invalid(`csr public key cannot be read: ${(e as Error).message}`, e);
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return;
  const kind =
    key.asymmetricKeyType === 'ec'
      ? `EC ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown curve'}`
      : key.asymmetricKeyType === 'rsa'
        ? `RSA ${key.asymmetricKeyDetails?.modulusLength ?? '?'}-bit`
        : (key.asymmetricKeyType ?? 'unknown');
  throw invalid(`csr key is ${kind}; the CA requires an ECDSA P-256 key`);
}

function truncate(s: string): string {
  return s.length > 128 ? `${s.slice(0, 128)}...` : s;
}

function invalid(message: string, cause?: unknown): ControlPlaneError {
  return new ControlPlaneError(ControlPlaneErrorCodes.CSR_INVALID, message, { cause });
}
