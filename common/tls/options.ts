/**
 * node:tls options for workload mTLS (HBONE): TLS 1.3 only, ALPN h2, our ECDSA P-256 key and
 * chain, peers verified against the trust bundle alone (not the system roots), and peers named by
 * their SPIFFE ID instead of a hostname. Both ends present certificates.
 */
import type { ConnectionOptions, SecureContextOptions, TlsOptions } from 'node:tls';
import type { WorkloadCertificate } from '../identity/workload-certificate';
import { TlsError, TlsErrorCodes } from './errors';
import { PeerPolicy, spiffeServerIdentityCheck } from './peer-identity';

export const WORKLOAD_ALPN: readonly string[] = Object.freeze(['h2']);

/** Key, chain and trust bundle of `cert`, with TLS 1.3 pinned; what setSecureContext takes. */
export function workloadSecureContextOptions(cert: WorkloadCertificate): SecureContextOptions {
  if (cert.certChainPem.length === 0) {
    throw new TlsError(TlsErrorCodes.CERTIFICATE, `the certificate for ${cert.identity.uri} has an empty chain`);
  }
  if (cert.trustBundlePem.length === 0) {
    throw new TlsError(
      TlsErrorCodes.CERTIFICATE,
      `the certificate for ${cert.identity.uri} comes with an empty trust bundle; no peer could be verified`,
    );
  }
  return {
    key: cert.keyPem,
    // One PEM text, leaf first: an array would mean alternative certificates, not a chain.
    cert: cert.certChainPem.map(withNewline).join(''),
    // Replaces Node's bundled public roots: only the mesh CA may vouch for a workload.
    ca: cert.trustBundlePem.map(withNewline),
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
  };
}

/** Server side: a client certificate is required and must chain to the trust bundle. */
export function workloadServerTlsOptions(cert: WorkloadCertificate): TlsOptions {
  return {
    ...workloadSecureContextOptions(cert),
    ALPNProtocols: [...WORKLOAD_ALPN],
    requestCert: true,
    rejectUnauthorized: true,
  };
}

/** Client side: the server must chain to the trust bundle and satisfy `peer` (its SPIFFE ID). */
export function workloadClientTlsOptions(cert: WorkloadCertificate, peer: PeerPolicy): ConnectionOptions {
  return {
    ...workloadSecureContextOptions(cert),
    ALPNProtocols: [...WORKLOAD_ALPN],
    rejectUnauthorized: true,
    checkServerIdentity: spiffeServerIdentityCheck(peer),
  };
}

function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
