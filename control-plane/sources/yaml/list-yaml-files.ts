/**
 * The *.yaml / *.yml files under a directory, as sorted relative paths. Entries whose name starts
 * with "." are skipped: editors' swap and temp files, VCS directories, and the "..data" /
 * "..<timestamp>" entries of a Kubernetes ConfigMap volume (whose files are also linked from the
 * top level, so reading both would define every object twice). Symlinks are followed, once.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export const isYamlFileName = (name: string): boolean => /\.ya?ml$/i.test(name);

/** True for a relative path any of whose segments is hidden. */
export const isHiddenPath = (rel: string): boolean => rel.split(path.sep).some((s) => s.startsWith('.'));

/** Code-point order, not locale order: the same on every machine. */
export const comparePaths = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface Listing {
  /** Relative to the root, sorted. */
  files: string[];
  /** Directories that could not be read (relative; "" is the root), with why. */
  unreadable: Array<{ dir: string; error: NodeJS.ErrnoException }>;
}

/** Lists `under` (relative to root, "" for all of it). Rejects only if `under` itself cannot be read. */
export async function listYamlFiles(root: string, under = ''): Promise<Listing> {
  const files: string[] = [];
  const unreadable: Listing['unreadable'] = [];
  const visited = new Set<string>(); // real paths, so a symlink cycle is walked once

  async function walk(rel: string, mustRead: boolean): Promise<void> {
    const abs = path.join(root, rel);
    let entries: import('node:fs').Dirent[];
    try {
      const real = await fs.realpath(abs);
      if (visited.has(real)) return;
      visited.add(real);
      entries = await fs.readdir(abs, { withFileTypes: true });
    } catch (e) {
      if (mustRead) throw e;
      unreadable.push({ dir: rel, error: e as NodeJS.ErrnoException });
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const childRel = rel === '' ? entry.name : path.join(rel, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await fs.stat(path.join(root, childRel)).catch(() => undefined); // dangling: skip
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDir) await walk(childRel, false);
      else if (isFile && isYamlFileName(entry.name)) files.push(childRel);
    }
  }

  await walk(under, true);
  files.sort(comparePaths);
  return { files, unreadable };
}
