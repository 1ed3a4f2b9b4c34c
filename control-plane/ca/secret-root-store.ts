/**
 * The CA root in a Kubernetes Secret (`--source kube`), so every control-plane replica and every
 * restart signs with the same root: a root per pod would make each new pod's certificates
 * unverifiable by the workloads that trust an older one (issue 7).
 *
 *   read Secret <namespace>/ambit-ca-root ── found ──► check and load (malformed: CA_STATE naming the Secret and key)
 *        │ 404
 *        ├─ this replica holds the Lease ──► generate, create (create-only) ── 409 AlreadyExists ──► read again
 *        └─ otherwise ──► campaign, and read again every pollMs until it appears (bounded by waitMs)
 *
 * Only the leader creates, and only with create: two replicas can never both install a root,
 * and one that lost a race adopts the winner's. The Secret is never updated or deleted here; like
 * the file store, a damaged root stops the start instead of being replaced, because a silent new
 * root would orphan every certificate already in the mesh. It is created immutable, so an
 * accidental `kubectl edit` cannot change the root under running replicas.
 */
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { Logger } from '../../common/log';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import { describeApiError, isConflict, isNotFound } from '../sources/kube/api-errors';
import { generateRoot, loadRoot, type RootCa, type RootFiles } from './root';
import type { RootStore } from './root-store';

export const CA_ROOT_SECRET = 'ambit-ca-root';
/** The kubernetes.io/tls keys, so `kubectl` and cert tooling read the Secret as what it is. */
export const ROOT_KEY_DATA = 'tls.key';
export const ROOT_CERT_DATA = 'tls.crt';
export const CA_ROOT_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/managed-by': 'ambit-control-plane',
  'app.kubernetes.io/component': 'ca-root',
};
export const TRUST_DOMAIN_ANNOTATION = 'ambit.dev/trust-domain';
export const FINGERPRINT_ANNOTATION = 'ambit.dev/root-fingerprint';

/** What the store needs of leader election (leader-election.ts's LeaderElector is one). */
export interface RootLeadership {
  readonly isLeader: boolean;
  /** Starts campaigning for the Lease; a no-op when already campaigning. */
  start(): void;
}

export interface SecretRootStoreOptions {
  secrets: Pick<CoreV1Api, 'readNamespacedSecret' | 'createNamespacedSecret'>;
  /** The control plane's own namespace. */
  namespace: string;
  /** Default ambit-ca-root (rbac.ts grants `get` on this name only). */
  name?: string;
  leadership: RootLeadership;
  /** "<namespace>/<name>" of the Lease, for the message when no leader shows up. */
  lease: string;
  /** How long a replica waits for the Secret to appear (default 60 s); then start-up fails. */
  waitMs?: number;
  /** How often it looks again meanwhile (default 500 ms). */
  pollMs?: number;
}

export class SecretRootStore implements RootStore {
  readonly namespace: string;
  readonly name: string;
  private readonly waitMs: number;
  private readonly pollMs: number;

  constructor(private readonly opts: SecretRootStoreOptions) {
    this.namespace = opts.namespace;
    this.name = opts.name ?? CA_ROOT_SECRET;
    this.waitMs = opts.waitMs ?? 60_000;
    this.pollMs = opts.pollMs ?? 500;
  }

  get location(): string {
    return `Secret ${this.namespace}/${this.name}`;
  }

  async open(trustDomain: string, logger: Logger, now: () => Date): Promise<RootCa> {
    const log = logger.child({ secret: `${this.namespace}/${this.name}` });
    const started = Date.now();
    let lastError: string | undefined;
    let waitingLogged = false;
    let lastWaitLog = started;
    for (;;) {
      let secret: V1Secret | undefined;
      let failure: string | undefined;
      try {
        secret = await this.read();
        if (secret === undefined && this.opts.leadership.isLeader) {
          secret = await this.create(trustDomain, now, log);
          if (secret === undefined) continue; // 409: another replica created it first; read theirs
          return await this.load(secret, trustDomain, now, log, 'created a new root CA');
        }
      } catch (err) {
        if (err instanceof ControlPlaneError) throw err;
        failure = describeApiError(`reading or creating the CA root ${this.location}`, err);
        if (failure !== lastError) log.warn({ err, code: ControlPlaneErrorCodes.KUBE_API }, `${failure}; retrying every ${this.pollMs} ms`);
        else log.debug({ err }, failure);
      }
      lastError = failure;
      if (secret !== undefined) return this.load(secret, trustDomain, now, log, 'loaded the root CA');

      if (failure === undefined) {
        // Absent and not ours to create (yet): the leader creates it. Campaign too, so that a
        // control plane that is alone (or first) becomes that leader.
        this.opts.leadership.start();
        if (!waitingLogged) {
          log.info({ lease: this.opts.lease, waitMs: this.waitMs }, `the CA root ${this.location} does not exist yet; waiting for the leader (Lease ${this.opts.lease}) to create it`);
          waitingLogged = true;
        } else if (Date.now() - lastWaitLog >= 10_000) {
          log.warn({ lease: this.opts.lease, waitedMs: Date.now() - started }, `still waiting for the leader to create the CA root ${this.location}`);
          lastWaitLog = Date.now();
        }
      }
      if (Date.now() - started >= this.waitMs) throw this.timedOut(lastError);
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  /** The Secret, or undefined when it does not exist. */
  private async read(): Promise<V1Secret | undefined> {
    try {
      return await this.opts.secrets.readNamespacedSecret({ name: this.name, namespace: this.namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Generates a root and creates the Secret; undefined when it exists already (409). */
  private async create(trustDomain: string, now: () => Date, log: Logger): Promise<V1Secret | undefined> {
    const { keyPem, certPem } = await generateRoot(trustDomain, now());
    // Checked before it is offered to anyone: the same checks every later load runs.
    const root = await loadRoot(keyPem, certPem, trustDomain, this.origin(), now());
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: { ...CA_ROOT_LABELS },
        annotations: { [TRUST_DOMAIN_ANNOTATION]: trustDomain, [FINGERPRINT_ANNOTATION]: root.fingerprint },
      },
      type: 'kubernetes.io/tls',
      immutable: true,
      data: { [ROOT_KEY_DATA]: Buffer.from(keyPem).toString('base64'), [ROOT_CERT_DATA]: Buffer.from(certPem).toString('base64') },
    };
    try {
      return await this.opts.secrets.createNamespacedSecret({ namespace: this.namespace, body });
    } catch (err) {
      if (!isConflict(err)) throw err;
      log.info(`another replica created the CA root ${this.location} first; using that one`);
      return undefined;
    }
  }

  private async load(secret: V1Secret, trustDomain: string, now: () => Date, log: Logger, what: string): Promise<RootCa> {
    const keyPem = this.pem(secret, ROOT_KEY_DATA);
    const certPem = this.pem(secret, ROOT_CERT_DATA);
    const root = await loadRoot(keyPem, certPem, trustDomain, this.origin(), now());
    log.info({ trustDomain, fingerprint: root.fingerprint, notAfter: root.cert.notAfter.toISOString(), secret: `${this.namespace}/${this.name}` }, what);
    return root;
  }

  /** One PEM out of the Secret's data (base64, as the API serves it). */
  private pem(secret: V1Secret, key: string): string {
    const data = secret.data ?? {};
    const value = data[key];
    if (value === undefined) {
      const has = Object.keys(data).sort();
      throw this.malformed(`has no "${key}" (its keys: ${has.length === 0 ? 'none' : has.join(', ')})`);
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw this.malformed(`key "${key}" is not base64`);
    const text = Buffer.from(value, 'base64').toString('utf8');
    if (text.trim() === '') throw this.malformed(`key "${key}" is empty`);
    return text;
  }

  private origin(): RootFiles {
    const startOver = `delete the Secret (kubectl -n ${this.namespace} delete secret ${this.name}) and restart the control plane`;
    return {
      key: `${this.location} key "${ROOT_KEY_DATA}"`,
      cert: `${this.location} key "${ROOT_CERT_DATA}"`,
      startOver,
      elsewhere: `${startOver} to create a new root (certificates issued by the old root then stop verifying)`,
    };
  }

  private malformed(what: string): ControlPlaneError {
    return new ControlPlaneError(
      ControlPlaneErrorCodes.CA_STATE,
      `the CA root ${this.location} ${what}; it must hold "${ROOT_KEY_DATA}" and "${ROOT_CERT_DATA}" (PEM). Restore it from a backup, ` +
        `or ${this.origin().startOver} to create a new root (certificates issued by the old root then stop verifying)`,
    );
  }

  private timedOut(lastError: string | undefined): ControlPlaneError {
    const why =
      lastError !== undefined
        ? `the last attempt: ${lastError}`
        : `it does not exist and this replica did not become the leader (Lease ${this.opts.lease}) to create it; ` +
          'the replica holding the Lease creates it at start: check that replica\'s log, or that the Lease is not held by a replica that is gone';
    return new ControlPlaneError(ControlPlaneErrorCodes.CA_STATE, `could not load the CA root ${this.location} within ${this.waitMs} ms: ${why}`);
  }
}
