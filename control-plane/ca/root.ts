/**
 * The CA's self-signed root: ECDSA P-256, CA:true, keyCertSign + cRLSign, ~10 years. Generated
 * here as PEM; loaded back from PEM with every property checked, because a root that silently
 * fails to match its key would only show up later as TLS handshakes failing across the mesh.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, KeyObject, randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  ECDSA_P256,
  importEcdsaPublicKey,
  importEcdsaSigningKey,
  parseCertificates,
  sha256Fingerprint,
  spkiDer,
  toPem,
  WebCryptoKey,
  x509,
} from '../../common/identity/x509';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';

const generateKeyPairAsync = promisify(generateKeyPair);

export const ROOT_VALIDITY_DAYS = 3650;
const DAY_MS = 86_400_000;
const CN_PREFIX = 'Ambit root CA ';

/** A loaded, checked root, ready to sign. */
export interface RootCa {
  readonly trustDomain: string;
  readonly cert: x509.X509Certificate;
  readonly certPem: string;
  /** Non-extractable WebCrypto key: the PEM is not kept in memory past loading. */
  readonly signingKey: WebCryptoKey;
  /** The root's subjectKeyIdentifier (hex), copied into each leaf's authorityKeyIdentifier. */
  readonly keyId: string;
  /** SHA-256 of the root's DER, lowercase hex. */
  readonly fingerprint: string;
}

/** Where the PEMs came from, for error messages: two files, or the two keys of a Secret. */
export interface RootFiles {
  /** How messages name the key and the certificate: a path, or "Secret ns/name key tls.key". */
  readonly key: string;
  readonly cert: string;
  /**
   * What an operator does to start over with a new root ("delete Secret ns/name"); default: move
   * the key's directory away.
   */
  readonly startOver?: string;
  /** Where another trust domain's root would go instead; default "another state directory". */
  readonly elsewhere?: string;
}

export async function generateRoot(trustDomain: string, now: Date): Promise<{ keyPem: string; certPem: string }> {
  const { privateKey, publicKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  const webPublic = await importEcdsaPublicKey(publicKey);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex'),
    name: [{ O: ['Ambit'] }, { CN: [`${CN_PREFIX}${trustDomain}`] }],
    // Backdated like leaves, so a node whose clock runs a little behind accepts a fresh root.
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + ROOT_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: ECDSA_P256,
    keys: { privateKey: await importEcdsaSigningKey(privateKey), publicKey: webPublic },
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(webPublic),
    ],
  });
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certPem: toPem(cert) };
}

/** Parses and checks a root pair; any problem is a CA_STATE error naming the file and the fix. */
export async function loadRoot(
  keyPem: string,
  certPem: string,
  trustDomain: string,
  files: RootFiles,
  now: Date,
): Promise<RootCa> {
  const restore =
    `restore it from a backup, or ${startOver(files)} to create a new root ` +
    '(certificates issued by the old root then stop verifying)';
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (e) {
    throw stateError(`${files.key} is not a PEM private key (${(e as Error).message}); ${restore}`, e);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    const kind = key.asymmetricKeyType === 'ec' ? `EC ${key.asymmetricKeyDetails?.namedCurve}` : key.asymmetricKeyType;
    throw stateError(`${files.key} holds a ${kind} key, not ECDSA P-256; ${restore}`);
  }

  let cert: x509.X509Certificate;
  try {
    const certs = parseCertificates(certPem);
    if (certs.length !== 1) throw new Error(`it holds ${certs.length} certificates, not 1`);
    cert = certs[0];
  } catch (e) {
    throw stateError(`${files.cert} is not a PEM certificate (${(e as Error).message}); ${restore}`, e);
  }

  if (!spkiDer(cert).equals(createPublicKey(key).export({ type: 'spki', format: 'der' }))) {
    throw stateError(`${files.cert} does not belong to the key in ${files.key}; ${restore}`);
  }
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  if (bc?.ca !== true || ku === null || (ku.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw stateError(`${files.cert} is not a CA certificate (needs basicConstraints cA and keyCertSign); ${restore}`);
  }
  if (!(await cert.verify({ signatureOnly: true }))) {
    throw stateError(`${files.cert} is not a valid self-signed certificate (its signature does not verify); ${restore}`);
  }
  const cn = cert.subjectName.getField('CN')[0] ?? '';
  if (cn !== `${CN_PREFIX}${trustDomain}`) {
    throw stateError(
      `${files.cert} is the root "${cn}", not Ambit's root for trust domain "${trustDomain}"; ` +
        `configure the trust domain it was created for, or use ${files.elsewhere ?? 'another state directory'}`,
    );
  }
  if (now > cert.notAfter) {
    throw stateError(`${files.cert} expired at ${cert.notAfter.toISOString()}; ${startOver(files)} to create a new root`);
  }
  if (now < cert.notBefore) {
    throw stateError(`${files.cert} is not valid before ${cert.notBefore.toISOString()}; is this machine's clock right?`);
  }
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  return Object.freeze({
    trustDomain,
    cert,
    certPem: toPem(cert),
    signingKey: await importEcdsaSigningKey(key),
    keyId: ski?.keyId ?? Buffer.from(await cert.publicKey.getKeyIdentifier()).toString('hex'),
    fingerprint: sha256Fingerprint(cert),
  });
}

function startOver(files: RootFiles): string {
  return files.startOver ?? `move ${path.dirname(files.key)} away`;
}

function stateError(message: string, cause?: unknown): ControlPlaneError {
  return new ControlPlaneError(ControlPlaneErrorCodes.CA_STATE, message, { cause });
}
