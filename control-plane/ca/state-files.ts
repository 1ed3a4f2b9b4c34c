/**
 * Private state on disk (the CA root, node credentials): directories 0700, files 0600, written
 * atomically, and refused on load when anyone but the owner could read or change them. An
 * error names the path and the command that fixes it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and parents) 0700, or checks that an existing one is private. */
export function ensurePrivateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (e) {
    throw stateError(`cannot create ${dir}: ${(e as Error).message}`, e);
  }
  checkPrivate(dir, 'directory');
}

/** Throws unless `p` is a regular file (not a link) with no group or other permission bits. */
export function checkPrivateFile(p: string): void {
  checkPrivate(p, 'file');
}

/**
 * Reads a file that is public but trusted (a root certificate): anyone may read it, but only the
 * owner may change it, or whoever can write it could make the CA hand out their own root.
 */
export function readProtectedFile(p: string): string {
  checkPrivate(p, 'file', 0o022);
  try {
    return fs.readFileSync(p, 'utf8');
  } catch (e) {
    throw stateError(`cannot read ${p}: ${(e as Error).message}`, e);
  }
}

/** True when `p` exists (a dangling link counts: it must not be written through). */
export function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw stateError(`cannot stat ${p}: ${(e as Error).message}`, e);
  }
}

/** Reads a private file after checking its permissions. */
export function readPrivateFile(p: string): string {
  checkPrivateFile(p);
  try {
    return fs.readFileSync(p, 'utf8');
  } catch (e) {
    throw stateError(`cannot read ${p}: ${(e as Error).message}`, e);
  }
}

/**
 * Writes `data` to `p` (0600) only if `p` does not exist: written to a temporary file, then
 * hard-linked into place, so a reader never sees half a file and an existing one is never replaced.
 */
export function createPrivateFile(p: string, data: string): void {
  const tmp = writeTemp(p, data);
  try {
    fs.linkSync(tmp, p);
  } catch (e) {
    const raced = (e as NodeJS.ErrnoException).code === 'EEXIST';
    throw stateError(
      raced
        ? `${p} appeared while it was being created; is another control plane using this state directory?`
        : `cannot create ${p}: ${(e as Error).message}`,
      e,
    );
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Writes `data` to `p` (0600), atomically replacing any previous content. */
export function replacePrivateFile(p: string, data: string): void {
  const tmp = writeTemp(p, data);
  try {
    fs.renameSync(tmp, p);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw stateError(`cannot write ${p}: ${(e as Error).message}`, e);
  }
}

function writeTemp(p: string, data: string): string {
  const tmp = path.join(path.dirname(p), `.${path.basename(p)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // 'wx': never follow or reuse something already at the temporary name.
    const fd = fs.openSync(tmp, 'wx', PRIVATE_FILE_MODE);
    try {
      fs.writeFileSync(fd, data);
      // Durable before it is linked or renamed into place: a crash must not leave an empty root key.
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw stateError(`cannot write ${tmp}: ${(e as Error).message}`, e);
  }
  return tmp;
}

/** `forbidden`: the permission bits that must be clear (default: all group and other bits). */
function checkPrivate(p: string, kind: 'file' | 'directory', forbidden = 0o077): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch (e) {
    throw stateError(`cannot stat ${p}: ${(e as Error).message}`, e);
  }
  const isKind = kind === 'file' ? st.isFile() : st.isDirectory();
  if (!isKind) throw stateError(`${p} is not a regular ${kind}; replace it with one`);
  const mode = st.mode & 0o777;
  if ((mode & forbidden) !== 0) {
    const want = kind === 'file' ? PRIVATE_FILE_MODE : PRIVATE_DIR_MODE;
    const what = forbidden === 0o077 ? 'readable or writable' : 'writable';
    throw stateError(
      `${p} has mode ${mode.toString(8).padStart(4, '0')}; it must not be ${what} by group or others: chmod ${want.toString(8)} ${p}`,
    );
  }
}

function stateError(message: string, cause?: unknown): ControlPlaneError {
  return new ControlPlaneError(ControlPlaneErrorCodes.CA_STATE, message, { cause });
}
