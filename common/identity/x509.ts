/**
 * The one module that loads @peculiar/x509. The library resolves its ASN.1 codecs through
 * tsyringe (which needs reflect-metadata loaded first) and signs through whatever WebCrypto is
 * registered, so both are set up here, once, before anyone else touches it. Everything else in
 * Ambit imports `x509` and the PEM/key helpers from this file.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, KeyObject, webcrypto } from 'node:crypto';
import { AmbitError, ErrorCodes } from '../errors';

// Node's WebCrypto; the library's `Crypto` type is the DOM one, which this project does not load.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

/** A WebCrypto key (public or private), the form the library signs and verifies with. */
export type WebCryptoKey = webcrypto.CryptoKey;

/** ECDSA over P-256 with SHA-256: the only key and signature algorithm Ambit issues or requests. */
export const ECDSA_P256 = Object.freeze({ name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' });

/** Well-known extension OIDs (RFC 5280 §4.2.1). */
export const OID = Object.freeze({
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
});

/** Imports a node:crypto private key for signing by the library; not extractable from WebCrypto. */
export async function importEcdsaSigningKey(key: KeyObject): Promise<WebCryptoKey> {
  const der = key.export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
}

/** Imports a node:crypto public key (the library exports it again to build SPKI fields). */
export async function importEcdsaPublicKey(key: KeyObject): Promise<WebCryptoKey> {
  const der = key.export({ type: 'spki', format: 'der' });
  return webcrypto.subtle.importKey('spki', der, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
}

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

const PEM_BLOCK = /-----BEGIN ([^\r\n-]+)-----([\s\S]*?)-----END ([^\r\n-]+)-----/g;

/**
 * The PEM blocks of `text` (RFC 7468). Text between blocks is allowed (OpenSSL writes
 * "explanatory text"); a BEGIN without its END, a label mismatch or bad base64 is an error.
 */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const [, label, body, endLabel] = m;
    if (label !== endLabel) throw invalid(`PEM block "BEGIN ${label}" ends with "END ${endLabel}"`);
    const b64 = body.replace(/\s+/g, '');
    if (b64.length === 0 || b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
      throw invalid(`PEM block "${label}" does not hold valid base64`);
    }
    blocks.push({ label, der: Buffer.from(b64, 'base64') });
  }
  const begins = text.split('-----BEGIN ').length - 1;
  if (blocks.length !== begins) throw invalid('PEM text has a BEGIN line without a matching END line');
  return blocks;
}

/** The DER of each `label` block in `text`; any block with another label is an error. */
export function pemBlocksOf(text: string, label: string): Buffer[] {
  const blocks = pemBlocks(text);
  const other = blocks.find((b) => b.label !== label);
  if (other !== undefined) throw invalid(`expected PEM "${label}" blocks, found "${other.label}"`);
  return blocks.map((b) => b.der);
}

/** Parses the certificates of one or more PEM texts, in order. */
export function parseCertificates(pem: string | readonly string[]): x509.X509Certificate[] {
  const texts = typeof pem === 'string' ? [pem] : pem;
  const certs: x509.X509Certificate[] = [];
  for (const text of texts) {
    for (const der of pemBlocksOf(text, 'CERTIFICATE')) {
      try {
        certs.push(new x509.X509Certificate(der));
      } catch (e) {
        throw invalid(`a CERTIFICATE block is not an X.509 certificate: ${(e as Error).message}`, e);
      }
    }
  }
  return certs;
}

/** The values of the URI entries in a certificate's or CSR's subjectAltName, in order. */
export function uriSans(holder: x509.X509Certificate | x509.Pkcs10CertificateRequest): string[] {
  const ext: x509.Extension | null =
    holder instanceof x509.X509Certificate ? holder.getExtension(OID.subjectAltName) : holder.getExtension(OID.subjectAltName);
  if (ext === null) return [];
  // The library returns its typed class for known OIDs; re-parse if it ever hands back a plain one.
  const san = ext instanceof x509.SubjectAlternativeNameExtension ? ext : new x509.SubjectAlternativeNameExtension(ext.rawData);
  return san.names.items.filter((n) => n.type === 'url').map((n) => n.value);
}

/**
 * PEM text ending in a newline. The library's PEM has none, and PEMs are concatenated into chains
 * and bundles: without it the next BEGIN line would run into this END line.
 */
export function toPem(obj: x509.X509Certificate | x509.Pkcs10CertificateRequest): string {
  return `${obj.toString('pem')}\n`;
}

/** SHA-256 of the DER, as lowercase hex: how audit lines and operators name a certificate. */
export function sha256Fingerprint(cert: x509.X509Certificate): string {
  return createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex');
}

/** The SubjectPublicKeyInfo DER of a certificate or CSR key, for comparisons with node:crypto keys. */
export function spkiDer(holder: { publicKey: x509.PublicKey }): Buffer {
  return Buffer.from(holder.publicKey.rawData);
}

function invalid(message: string, cause?: unknown): AmbitError {
  return new AmbitError(ErrorCodes.INVALID_ARGUMENT, message, { cause });
}
