/**
 * Where the CA's root lives, behind one small interface: the CA asks a RootStore for its root once,
 * at start. Two stores exist: files in the state directory (here; the YAML source and `ambit
 * local`) and a Kubernetes Secret shared by every control-plane replica (secret-root-store.ts,
 * `--source kube`).
 *
 * The files: `<stateDir>/ca/root-key.pem` (0600) and `root-cert.pem`, in a 0700 directory.
 * Created on first start, loaded on every later one. An existing root is never regenerated: if
 * either file is missing or unusable the CA refuses to start and says which file and what to do,
 * because a silent new root would orphan every certificate already in the mesh.
 */
import path from 'node:path';
import type { Logger } from '../../common/log';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import { generateRoot, loadRoot, RootCa, RootFiles } from './root';
import { createPrivateFile, ensurePrivateDir, exists, readPrivateFile, readProtectedFile } from './state-files';

/** Loads the root, creating it first when there is none and this store may; CA_STATE when unusable. */
export interface RootStore {
  /** Where the root lives, for log lines ("/var/lib/ambit/control-plane/ca", "Secret ns/name"). */
  readonly location: string;
  open(trustDomain: string, logger: Logger, now: () => Date): Promise<RootCa>;
}

/** The root in `<stateDir>/ca/`. */
export class FileRootStore implements RootStore {
  constructor(private readonly stateDir: string) {}

  get location(): string {
    return path.dirname(rootFiles(this.stateDir).key);
  }

  open(trustDomain: string, logger: Logger, now: () => Date): Promise<RootCa> {
    return openRoot(this.stateDir, trustDomain, logger, now());
  }
}

export const ROOT_KEY_FILE = 'root-key.pem';
export const ROOT_CERT_FILE = 'root-cert.pem';

export function rootFiles(stateDir: string): RootFiles {
  const dir = path.join(stateDir, 'ca');
  return { key: path.join(dir, ROOT_KEY_FILE), cert: path.join(dir, ROOT_CERT_FILE) };
}

/** Loads the root in `<stateDir>/ca/`, creating it when the directory holds neither file. */
export async function openRoot(stateDir: string, trustDomain: string, logger: Logger, now: Date): Promise<RootCa> {
  const files = rootFiles(stateDir);
  ensurePrivateDir(path.dirname(files.key));
  const hasKey = exists(files.key);
  const hasCert = exists(files.cert);

  if (!hasKey && !hasCert) {
    const { keyPem, certPem } = await generateRoot(trustDomain, now);
    // Key first: a crash between the two leaves "key without cert", which the next start reports.
    createPrivateFile(files.key, keyPem);
    createPrivateFile(files.cert, certPem);
    const root = await loadRoot(keyPem, certPem, trustDomain, files, now);
    logger.info(
      { trustDomain, fingerprint: root.fingerprint, notAfter: root.cert.notAfter.toISOString(), dir: path.dirname(files.key) },
      'created a new root CA',
    );
    return root;
  }
  if (!hasKey || !hasCert) {
    const [present, missing] = hasKey ? [files.key, files.cert] : [files.cert, files.key];
    throw new ControlPlaneError(
      ControlPlaneErrorCodes.CA_STATE,
      `${present} exists but ${missing} is missing; restore ${path.basename(missing)} from a backup, ` +
        `or move ${path.dirname(files.key)} away to create a new root (certificates issued by the old root then stop verifying)`,
    );
  }
  const root = await loadRoot(readPrivateFile(files.key), readProtectedFile(files.cert), trustDomain, files, now);
  logger.info({ trustDomain, fingerprint: root.fingerprint, notAfter: root.cert.notAfter.toISOString() }, 'loaded the root CA');
  return root;
}
