/**
 * The control plane's CA: turns an authenticated node's CSR into a workload certificate,
 *
 *   identity (SPIFFE, this trust domain) -> authorize (a pod with it runs on the node)
 *     -> CSR (P-256, self-signed, matching SAN) -> validity -> sign -> audit
 *
 * The root lives in `<stateDir>/ca/` (see root-store.ts). Authentication is not done here: the
 * caller (the gRPC handler) passes the node its authenticator vouched for.
 */
import { AmbitError } from '../../common/errors';
import { checkTrustDomain, DEFAULT_TRUST_DOMAIN, parseSpiffeId, SpiffeId } from '../../common/identity/spiffe';
import { sha256Fingerprint, toPem } from '../../common/identity/x509';
import { Logger, silentLogger } from '../../common/log';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import type { IdentityDirectory } from '../model/resource-store';
import { auditIssued, auditRefused } from './audit';
import { checkCsr } from './csr-check';
import { signLeaf } from './leaf';
import type { RootCa } from './root';
import { openRoot } from './root-store';

export const DEFAULT_TTL_SECONDS = 24 * 3600;
export const DEFAULT_MAX_TTL_SECONDS = 7 * 24 * 3600;
/** Leaves start this far in the past so peers whose clocks run slightly behind accept them. */
export const CLOCK_SKEW_SECONDS = 60;

export interface CertificateAuthorityOptions {
  /** The control plane's state directory; the root lives in its `ca/` subdirectory. */
  stateDir: string;
  /** Who may have which identity. */
  identityDirectory: IdentityDirectory;
  /** Default `cluster.local`. */
  trustDomain?: string;
  logger?: Logger;
  /** Lifetime when a request asks for none (validity 0). Default 24 h. */
  defaultTtlSeconds?: number;
  /** Longer requests are cut to this. Default 7 days. */
  maxTtlSeconds?: number;
  /** The clock; tests move it. */
  now?: () => Date;
}

export interface IssueRequest {
  /** The authenticated caller's node. */
  node: string;
  /** PEM PKCS#10. */
  csr: string;
  /** `spiffe://<trust-domain>/ns/<ns>/sa/<sa>`. */
  identity: string;
  /** 0 or absent: the default TTL. */
  validitySeconds?: number;
  /** The caller's address, for the audit line only. */
  peer?: string;
}

export interface IssuedCertificate {
  /** PEM, leaf first, ending with the root. */
  readonly certChain: string[];
  /** PEM roots for this trust domain. */
  readonly trustBundle: string[];
  readonly identity: SpiffeId;
  /** Lowercase hex. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 of the leaf DER, lowercase hex. */
  readonly fingerprint: string;
}

/** What the gRPC handler needs of a CA. */
export interface CertificateIssuer {
  issue(req: IssueRequest): Promise<IssuedCertificate>;
}

interface Settings {
  readonly trustDomain: string;
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
  readonly now: () => Date;
}

export class CertificateAuthority implements CertificateIssuer {
  /** Loads (or on first start creates) the root and returns a CA ready to issue. */
  static async open(opts: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    const settings = checkOptions(opts);
    const logger = (opts.logger ?? silentLogger).child({ component: 'ca' });
    const root = await openRoot(opts.stateDir, settings.trustDomain, logger, settings.now());
    return new CertificateAuthority(root, opts.identityDirectory, logger, settings);
  }

  private constructor(
    private readonly root: RootCa,
    private readonly directory: IdentityDirectory,
    private readonly logger: Logger,
    private readonly settings: Settings,
  ) {}

  get trustDomain(): string {
    return this.root.trustDomain;
  }

  /** The root certificate, PEM. */
  get rootCertificate(): string {
    return this.root.certPem;
  }

  /** SHA-256 of the root's DER, lowercase hex. */
  get rootFingerprint(): string {
    return this.root.fingerprint;
  }

  /** The PEM roots a workload should trust for this trust domain. */
  get trustBundle(): string[] {
    return [this.root.certPem];
  }

  /** Issues a certificate, or throws CSR_INVALID / PERMISSION_DENIED; either way, audits once. */
  async issue(req: IssueRequest): Promise<IssuedCertificate> {
    let issued: IssuedCertificate;
    try {
      issued = await this.issueUnaudited(req);
    } catch (e) {
      const known = e instanceof ControlPlaneError;
      auditRefused(this.logger, {
        node: req.node,
        identity: req.identity,
        code: known ? e.code : 'INTERNAL',
        reason: known ? e.message : `internal error: ${(e as Error).message}`,
        peer: req.peer,
      });
      throw e;
    }
    auditIssued(this.logger, {
      node: req.node,
      identity: issued.identity.uri,
      serial: issued.serialNumber,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
      fingerprint: issued.fingerprint,
      peer: req.peer,
    });
    return issued;
  }

  private async issueUnaudited(req: IssueRequest): Promise<IssuedCertificate> {
    const identity = this.requestedIdentity(req.identity);
    if (!this.directory.hasIdentityOnNode(req.node, identity.namespace, identity.serviceAccount)) {
      throw new ControlPlaneError(
        ControlPlaneErrorCodes.PERMISSION_DENIED,
        `no pod with service account ${identity.namespace}/${identity.serviceAccount} is scheduled on node ${req.node}`,
      );
    }
    const publicKey = await checkCsr(req.csr, identity);

    const now = this.settings.now();
    const ttl = this.ttlSeconds(req.validitySeconds ?? 0);
    const notBefore = new Date(now.getTime() - CLOCK_SKEW_SECONDS * 1000);
    // A leaf never outlives the root that vouches for it.
    const notAfter = new Date(Math.min(now.getTime() + ttl * 1000, this.root.cert.notAfter.getTime()));
    const leaf = await signLeaf(this.root, publicKey, identity, { notBefore, notAfter });
    return {
      certChain: [toPem(leaf), this.root.certPem],
      trustBundle: this.trustBundle,
      identity,
      serialNumber: leaf.serialNumber,
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      fingerprint: sha256Fingerprint(leaf),
    };
  }

  private requestedIdentity(uri: string): SpiffeId {
    let id: SpiffeId;
    try {
      id = parseSpiffeId(uri);
    } catch (e) {
      if (!(e instanceof AmbitError)) throw e;
      throw new ControlPlaneError(ControlPlaneErrorCodes.CSR_INVALID, `identity: ${e.message}`, { cause: e });
    }
    if (id.trustDomain !== this.root.trustDomain) {
      throw new ControlPlaneError(
        ControlPlaneErrorCodes.CSR_INVALID,
        `identity ${id.uri} is in trust domain "${id.trustDomain}"; this CA issues for "${this.root.trustDomain}"`,
      );
    }
    return id;
  }

  private ttlSeconds(requested: number): number {
    if (!Number.isInteger(requested) || requested < 0) {
      throw new ControlPlaneError(ControlPlaneErrorCodes.CSR_INVALID, `validity of ${requested} s is not a whole number of seconds`);
    }
    return requested === 0 ? this.settings.defaultTtlSeconds : Math.min(requested, this.settings.maxTtlSeconds);
  }
}

function checkOptions(opts: CertificateAuthorityOptions): Settings {
  const bad = (what: string): never => {
    throw new ControlPlaneError(ControlPlaneErrorCodes.INVALID_OPTION, what);
  };
  if (typeof opts.stateDir !== 'string' || opts.stateDir === '') bad('CA stateDir must be a directory path');
  const trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  try {
    checkTrustDomain(trustDomain);
  } catch (e) {
    bad(`CA ${(e as Error).message}`);
  }
  const defaultTtlSeconds = opts.defaultTtlSeconds ?? DEFAULT_TTL_SECONDS;
  const maxTtlSeconds = opts.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
  for (const [name, v] of [
    ['defaultTtlSeconds', defaultTtlSeconds],
    ['maxTtlSeconds', maxTtlSeconds],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) bad(`CA ${name}=${v} must be a positive whole number of seconds`);
  }
  if (defaultTtlSeconds > maxTtlSeconds) {
    bad(`CA defaultTtlSeconds=${defaultTtlSeconds} exceeds maxTtlSeconds=${maxTtlSeconds}`);
  }
  return Object.freeze({ trustDomain, defaultTtlSeconds, maxTtlSeconds, now: opts.now ?? (() => new Date()) });
}
