/**
 * Which object definition is served when several files define the same kind/namespace/name (the
 * first in path order wins; the others are problems), and the delta between two served views.
 */
import type { ObjectKey } from '../../kube/objects';
import type { ConfigProblem, SourceChanges } from '../source';
import type { FileEntry } from './file-objects';

export interface ServedObject {
  readonly file: string;
  readonly entry: FileEntry;
}

export type ServedView = ReadonlyMap<ObjectKey, ServedObject>;

export interface FileContribution {
  /** Absolute path; contributions come in path order. */
  readonly file: string;
  readonly entries: readonly FileEntry[];
}

const describe = (s: ServedObject): string =>
  `${s.file} (document ${s.entry.document}${s.entry.line === undefined ? '' : `, line ${s.entry.line}`})`;

export function resolveServed(files: readonly FileContribution[], source: string): { served: Map<ObjectKey, ServedObject>; problems: ConfigProblem[] } {
  const served = new Map<ObjectKey, ServedObject>();
  const problems: ConfigProblem[] = [];
  for (const { file, entries } of files) {
    for (const entry of entries) {
      const first = served.get(entry.key);
      if (first === undefined) {
        served.set(entry.key, { file, entry });
        continue;
      }
      const { kind, metadata } = entry.object;
      problems.push({
        severity: 'error',
        source,
        file,
        document: entry.document,
        line: entry.line,
        kind,
        namespace: metadata.namespace,
        name: metadata.name,
        field: '/metadata/name',
        message: `duplicate ${kind} ${metadata.namespace ? `${metadata.namespace}/` : ''}${metadata.name}: already defined in ${describe(first)}; this definition is ignored`,
      });
    }
  }
  return { served, problems };
}

/** Upserts for new or changed objects, removals for vanished ones; unchanged objects are left out. */
export function diffServed(before: ServedView, after: ServedView): SourceChanges {
  const upsert = [...after]
    .filter(([key, now]) => before.get(key)?.entry.fingerprint !== now.entry.fingerprint)
    .map(([, now]) => now.entry.object);
  const remove = [...before.keys()].filter((key) => !after.has(key));
  return { upsert, remove };
}
