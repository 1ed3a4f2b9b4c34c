/**
 * The installer's writes to the host's CNI directories. Every write goes to a hidden file beside
 * the target and is renamed over it, so the container runtime, which may read at any moment,
 * never sees a half-written binary or config. Temporary names end in neither .conf, .conflist
 * nor .json, so the runtime never loads one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ioError } from './errors';
import { isConfigFile } from './cni-config';

const tempBeside = (file: string): string => path.join(path.dirname(file), `.${path.basename(file)}.ambit-tmp-${process.pid}`);

/** Writes `data` to `file` atomically (write, fsync, rename), with `mode`. */
export function writeAtomically(file: string, data: string | Buffer, mode: number): void {
  const tmp = tempBeside(file);
  try {
    const fd = fs.openSync(tmp, 'w', mode);
    try {
      fs.writeFileSync(fd, data);
      fs.fchmodSync(fd, mode); // the umask narrowed the open's mode
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw ioError(`write ${file}`, err);
  }
}

/** The config files in `dir`, as libcni lists them: every non-directory with a config extension. */
export function configFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.isDirectory() && isConfigFile(e.name))
      .map((e) => e.name);
  } catch (err) {
    throw ioError(`list ${dir}`, err);
  }
}

export function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw ioError(`read ${file}`, err);
  }
}

/** The permission bits of `file`, or `fallback` when it does not exist. */
export function modeOf(file: string, fallback: number): number {
  try {
    return fs.statSync(file).mode & 0o7777;
  } catch {
    return fallback;
  }
}

export function removeFile(file: string): boolean {
  try {
    fs.unlinkSync(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError(`remove ${file}`, err);
  }
}

/** Copies `source` to `target` (mode 0755) unless `target` already holds the same bytes; true when copied. */
export function installBinary(source: string, target: string): boolean {
  let wanted: Buffer;
  try {
    wanted = fs.readFileSync(source);
  } catch (err) {
    throw ioError(`read the plugin ${source} (is it in the image?)`, err);
  }
  try {
    const current = fs.readFileSync(target);
    if (current.equals(wanted) && (fs.statSync(target).mode & 0o777) === 0o755) return false;
  } catch {
    // missing or unreadable: install it
  }
  writeAtomically(target, wanted, 0o755);
  return true;
}
