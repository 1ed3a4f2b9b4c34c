/**
 * What one file currently contributes: its last read text, the entries it serves and its problems.
 * A bad edit never takes objects away: a file that no longer parses keeps its previous entries, and
 * an invalid document keeps the previous version of the object it defines.
 */
import type { ConfigProblem } from '../source';
import type { FileEntry, FileObjects } from './file-objects';

export interface FileState {
  /** Absolute path. */
  readonly file: string;
  /** Text last read; undefined when the file could not be read, so it is read again next time. */
  text?: string;
  entries: FileEntry[];
  problems: ConfigProblem[];
}

/**
 * The entries a file serves after a re-read. A rejected document keeps the previous entry with the
 * same kind/namespace/name, or failing that (say the name itself is broken) the previous entry
 * from the same document position.
 */
export function nextEntries(previous: readonly FileEntry[], read: FileObjects): FileEntry[] {
  if (!read.parsed) return [...previous];
  const out = [...read.entries];
  const keys = new Set(out.map((e) => e.key));
  for (const bad of read.rejected) {
    const old =
      (bad.key !== undefined ? previous.find((e) => e.key === bad.key) : undefined) ??
      previous.find((e) => e.document === bad.document);
    if (old !== undefined && !keys.has(old.key)) {
      out.push(old);
      keys.add(old.key);
    }
  }
  return out.sort((a, b) => a.document - b.document);
}

/** Problems ordered as the operator reads the file: by document, then line. */
export function byPosition(a: ConfigProblem, b: ConfigProblem): number {
  return (a.document ?? 0) - (b.document ?? 0) || (a.line ?? 0) - (b.line ?? 0);
}
