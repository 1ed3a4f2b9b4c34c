/**
 * The control plane's CA: turns an authenticated caller's CSR into a workload certificate,
 *
 *   identity (SPIFFE, this trust domain) -> authorize (identity-authorization.ts: a node agent may
 *     have any identity of a pod on its node, a waypoint pod only its own)
 *     -> CSR (P-256, self-signed, matching SAN) -> validity -> sign -> audit
 *
 * The root comes from a RootStore: `<stateDir>/ca/` by default, a Kubernetes Secret with the
 * Kubernetes source (root-store.ts, secret-root-store.ts). Authentication is not done here: the
 * caller (the gRPC handler) passes what its authenticator vouched for.
 */
import { AmbitError } from '../../common/errors';
import { checkTrustDomain, DEFAULT_TRUST_DOMAIN, parseSpiffeId, SpiffeId } from '../../common/identity/spiffe';
import { sha256Fingerprint, toPem } from '../../common/identity/x509';
import { Logger, silentLogger } from '../../common/log';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import type { AuthenticatedWorkload } from '../auth/node-authenticator';
import type { IdentityDirectory } from '../model/resource-store';
import { auditIssued, auditRefused } from './audit';
import { checkCsr } from './csr-check';
import { authorizeIdentity } from './identity-authorization';
import { signLeaf } from './leaf';
import type { RootCa } from './root';
import { FileRootStore, type RootStore } from './root-store';

export const DEFAULT_TTL_SECONDS = 24 * 3600;
export const DEFAULT_MAX_TTL_SECONDS = 7 * 24 * 3600;
/** Leaves start this far in the past so peers whose clocks run slightly behind accept them. */
export const CLOCK_SKEW_SECONDS = 60;

export interface CertificateAuthorityOptions {
  /** The control plane's state directory; without rootStore the root lives in its `ca/` subdirectory. */
  stateDir?: string;
  /** Where the root lives instead (the Kubernetes source: a Secret). */
  rootStore?: RootStore;
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
  /**
   * Set when the caller is one workload (a waypoint pod) rather than its node's agent: it may
   * have only its own identity, never another one on its node.
   */
  workload?: AuthenticatedWorkload;
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
    const store = opts.rootStore ?? new FileRootStore(opts.stateDir as string);
    const root = await store.open(settings.trustDomain, logger, settings.now);
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
        workload: req.workload,
        identity: req.identity,
        code: known ? e.code : 'INTERNAL',
        reason: known ? e.message : `internal error: ${(e as Error).message}`,
        peer: req.peer,
      });
      throw e;
    }
    auditIssued(this.logger, {
      node: req.node,
      workload: req.workload,
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
    authorizeIdentity({ node: req.node, workload: req.workload }, identity, this.directory);
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
  if (opts.rootStore === undefined && (typeof opts.stateDir !== 'string' || opts.stateDir === '')) {
    bad('CA stateDir must be a directory path (or pass a rootStore)');
  }
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
