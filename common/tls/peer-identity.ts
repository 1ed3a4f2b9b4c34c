/**
 * Who is on the other end of a workload mTLS connection, and whether we want them. The identity
 * is the certificate's single SPIFFE URI SAN (SPIFFE X509-SVID §2); the hostname and the subject
 * are never looked at. Chain validation (trust bundle, expiry, EKU) is OpenSSL's job and has
 * already passed when these run; this is the name check that replaces the hostname check.
 */
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { parseSpiffeId, SpiffeId, spiffeIdOfCertificate } from '../identity/spiffe';
import { x509 } from '../identity/x509';
import { TlsError, TlsErrorCodes } from './errors';

/** One SPIFFE URI, or the list of URIs any of which is acceptable. */
export type ExpectedIdentity = string | readonly string[];

export interface PeerPolicy {
  /** SPIFFE URIs accepted, compared exactly as written; any identity when absent. */
  readonly identities?: ExpectedIdentity;
  /** Trust domains accepted; any (that chains to the bundle) when absent. */
  readonly trustDomains?: readonly string[];
}

/** The SPIFFE ID of a DER certificate; TlsError NO_PEER_IDENTITY when it has none usable. */
export function spiffeIdOfDer(der: Buffer): SpiffeId {
  try {
    return spiffeIdOfCertificate(new x509.X509Certificate(der));
  } catch (e) {
    throw new TlsError(
      TlsErrorCodes.NO_PEER_IDENTITY,
      `the peer certificate carries no usable SPIFFE ID: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** The SPIFFE ID of the certificate the peer of `socket` presented. */
export function peerSpiffeId(socket: TLSSocket): SpiffeId {
  const cert = socket.getPeerCertificate();
  // Node returns an empty object, not null, when the peer sent no certificate.
  if (cert === null || cert === undefined || cert.raw === undefined) {
    throw new TlsError(TlsErrorCodes.NO_PEER_IDENTITY, 'the peer presented no certificate');
  }
  return spiffeIdOfDer(cert.raw);
}

/** The accepted URIs as a list, each validated, so a typo in configuration fails loudly here. */
export function expectedIdentities(expected: ExpectedIdentity): readonly string[] {
  const list = typeof expected === 'string' ? [expected] : expected;
  if (list.length === 0) {
    throw new TlsError(TlsErrorCodes.PEER_IDENTITY, 'no expected peer identity given; pass at least one SPIFFE ID');
  }
  for (const uri of list) parseSpiffeId(uri);
  return list;
}

/** Returns `peer` when `policy` accepts it; TlsError PEER_IDENTITY naming both sides otherwise. */
export function checkPeerIdentity(peer: SpiffeId, policy: PeerPolicy): SpiffeId {
  const { trustDomains, identities } = policy;
  if (trustDomains !== undefined && !trustDomains.includes(peer.trustDomain)) {
    throw new TlsError(
      TlsErrorCodes.PEER_IDENTITY,
      `peer presented ${peer.uri} from trust domain "${peer.trustDomain}"; ` +
        `trusted: ${trustDomains.map((t) => `"${t}"`).join(', ') || '(none)'}`,
    );
  }
  if (identities !== undefined) {
    const list = typeof identities === 'string' ? [identities] : identities;
    if (!list.includes(peer.uri)) {
      const wanted = list.length === 1 ? list[0] : `one of ${list.join(', ')}`;
      throw new TlsError(TlsErrorCodes.PEER_IDENTITY, `peer presented ${peer.uri}, expected ${wanted}`);
    }
  }
  return peer;
}

/**
 * A `checkServerIdentity` for tls.connect: the SPIFFE check in place of Node's hostname check.
 * Node calls it after the chain verified and destroys the socket with the returned error.
 */
export function spiffeServerIdentityCheck(policy: PeerPolicy): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    try {
      if (cert.raw === undefined) throw new TlsError(TlsErrorCodes.NO_PEER_IDENTITY, 'the server presented no certificate');
      checkPeerIdentity(spiffeIdOfDer(cert.raw), policy);
      return undefined;
    } catch (e) {
      return e as Error;
    }
  };
}
