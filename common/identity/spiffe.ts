/**
 * SPIFFE IDs as Ambit uses them: `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`.
 * Trust-domain and path rules follow the SPIFFE ID spec (spiffe/spiffe standards/SPIFFE-ID.md);
 * namespace and service account follow Kubernetes' name rules, since that is where they come from.
 * Parsing is by hand, not through URL: WHATWG URL lowercases, percent-decodes and resolves dot
 * segments, and an identity must be compared exactly as written.
 */
import { AmbitError, ErrorCodes } from '../errors';
import { parseCertificates, uriSans, x509 } from './x509';

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

const SCHEME = 'spiffe://';
/** SPIFFE-ID.md §2.3: a SPIFFE ID is at most 2048 bytes; §2.1: a trust domain at most 255. */
const MAX_ID_LENGTH = 2048;
const MAX_TRUST_DOMAIN_LENGTH = 255;
const TRUST_DOMAIN_CHARS = /^[a-z0-9._-]+$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface SpiffeId {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The canonical URI form. */
  readonly uri: string;
}

/** RFC 1123 label, as Kubernetes requires of namespace names: [a-z0-9-], ≤ 63, alphanumeric ends. */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS_LABEL.test(s);
}

/** RFC 1123 subdomain, as Kubernetes requires of service-account and node names. */
export function isDns1123Subdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split('.').every((label) => DNS_LABEL.test(label));
}

/** Why `td` is not a valid trust domain, or undefined when it is. */
function trustDomainProblem(td: string): string | undefined {
  if (td.length === 0) return 'is empty';
  if (td.length > MAX_TRUST_DOMAIN_LENGTH) return `is longer than ${MAX_TRUST_DOMAIN_LENGTH} characters`;
  if (TRUST_DOMAIN_CHARS.test(td)) return undefined;
  if (td.includes(':')) return 'must not carry a port';
  if (td.includes('@')) return 'must not carry user info';
  if (td.toLowerCase() !== td && TRUST_DOMAIN_CHARS.test(td.toLowerCase())) return 'must be lowercase';
  return "may only contain lowercase letters, digits, '.', '-' and '_'";
}

/** Returns `td` when it is a valid trust domain; throws naming the problem otherwise. */
export function checkTrustDomain(td: string): string {
  const problem = trustDomainProblem(td);
  if (problem !== undefined) throw invalid(`trust domain "${td}" ${problem}`);
  return td;
}

/** Builds a SPIFFE ID from its parts, validating each. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): SpiffeId {
  checkTrustDomain(trustDomain);
  checkNamespace(namespace);
  checkServiceAccount(serviceAccount);
  return Object.freeze({
    trustDomain,
    namespace,
    serviceAccount,
    uri: `${SCHEME}${trustDomain}/ns/${namespace}/sa/${serviceAccount}`,
  });
}

/** The URI form of validated parts. */
export function formatSpiffeId(id: Pick<SpiffeId, 'trustDomain' | 'namespace' | 'serviceAccount'>): string {
  return spiffeId(id.trustDomain, id.namespace, id.serviceAccount).uri;
}

/** Parses `spiffe://<td>/ns/<ns>/sa/<sa>`; the error names the part that is wrong. */
export function parseSpiffeId(uri: string): SpiffeId {
  const shown = uri.length > 128 ? `${uri.slice(0, 128)}...` : uri;
  const fail = (what: string): never => {
    throw invalid(`SPIFFE ID "${shown}": ${what}`);
  };
  if (uri.length > MAX_ID_LENGTH) fail(`is longer than ${MAX_ID_LENGTH} characters`);
  if (!uri.startsWith(SCHEME)) {
    fail(uri.toLowerCase().startsWith(SCHEME) ? 'the scheme must be lowercase "spiffe"' : 'must start with "spiffe://"');
  }
  const rest = uri.slice(SCHEME.length);
  if (/[?#]/.test(rest)) fail('must not have a query or fragment');
  const slash = rest.indexOf('/');
  const td = slash === -1 ? rest : rest.slice(0, slash);
  const tdProblem = trustDomainProblem(td);
  if (tdProblem !== undefined) fail(`trust domain "${td}" ${tdProblem}`);
  const segments = slash === -1 ? [] : rest.slice(slash + 1).split('/');
  if (segments.some((s) => s === '')) fail('the path has an empty segment (a "//" or a trailing "/")');
  if (segments.length !== 4 || segments[0] !== 'ns' || segments[2] !== 'sa') {
    fail('the path must be /ns/<namespace>/sa/<service-account>');
  }
  checkNamespace(segments[1], `SPIFFE ID "${shown}": `);
  checkServiceAccount(segments[3], `SPIFFE ID "${shown}": `);
  return spiffeId(td, segments[1], segments[3]);
}

/**
 * The identity of an X.509-SVID: its single URI SAN, parsed. SPIFFE X509-SVID §2 requires exactly
 * one URI SAN; a certificate with none or several names no single workload.
 */
export function spiffeIdOfCertificate(cert: string | x509.X509Certificate): SpiffeId {
  let parsed: x509.X509Certificate;
  if (typeof cert === 'string') {
    const certs = parseCertificates(cert);
    if (certs.length !== 1) throw invalid(`expected one PEM certificate, got ${certs.length}`);
    parsed = certs[0];
  } else {
    parsed = cert;
  }
  const uris = uriSans(parsed);
  if (uris.length !== 1) {
    throw invalid(`certificate ${parsed.serialNumber} has ${uris.length} URI SANs; a SPIFFE certificate has exactly one`);
  }
  return parseSpiffeId(uris[0]);
}

function checkNamespace(ns: string, prefix = ''): void {
  if (!isDns1123Label(ns)) {
    throw invalid(
      `${prefix}namespace "${ns}" is not a DNS-1123 label ` +
        "(lowercase letters, digits and '-', at most 63, starting and ending alphanumeric)",
    );
  }
}

function checkServiceAccount(sa: string, prefix = ''): void {
  if (!isDns1123Subdomain(sa)) {
    throw invalid(
      `${prefix}service account "${sa}" is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253)`,
    );
  }
}

function invalid(message: string): AmbitError {
  return new AmbitError(ErrorCodes.INVALID_ARGUMENT, message);
}
