/**
 * One file's text to the objects it defines: documents parsed, `kind: List` items expanded,
 * namespaces defaulted, each object validated. Valid objects become entries; every invalid one
 * becomes problems (file, document, line, field) plus a record of which object it tried to define,
 * so the caller can keep serving that object's previous version.
 */
import { CLUSTER_SCOPED_KINDS, objectKey, type KubeObject, type ObjectKey } from '../../kube/objects';
import { isObj } from '../../validation/check-helpers';
import { parsePointer, toPointer } from '../../validation/field-path';
import { validateObject } from '../../validation/validate-object';
import type { ConfigProblem } from '../source';
import { canonicalJson, deepFreeze } from './object-fingerprint';
import { parseYaml, type YamlDocument } from './parse-documents';

export interface FileEntry {
  readonly key: ObjectKey;
  /** Frozen: the same object is delivered to the sink. */
  readonly object: KubeObject;
  /** Canonical JSON of the object: equal fingerprints mean nothing changed. */
  readonly fingerprint: string;
  readonly document: number;
  readonly line?: number;
}

/** A document that failed validation, and the object it would have defined if known. */
export interface RejectedDocument {
  readonly document: number;
  readonly key?: ObjectKey;
}

export interface FileObjects {
  /** False when the file has a YAML syntax error: nothing in it is trusted, entries is empty. */
  readonly parsed: boolean;
  readonly entries: FileEntry[];
  readonly rejected: RejectedDocument[];
  readonly problems: ConfigProblem[];
}

export const DEFAULT_NAMESPACE = 'default';

interface Candidate {
  value: unknown;
  /** Where the candidate sits in its document ([] or ["items", "<i>"] in a List). */
  base: string[];
}

/** The objects a document holds: itself, or the items of a List (kubectl's `kind: List`, `PodList`, ...). */
function candidates(doc: YamlDocument): Candidate[] | string {
  const v = doc.value;
  if (isObj(v) && typeof v.kind === 'string' && v.kind.endsWith('List') && (v.kind === 'List' || Array.isArray(v.items))) {
    if (v.items === undefined || v.items === null) return [];
    if (!Array.isArray(v.items)) return `"items" of a ${v.kind} must be a list`;
    return v.items.map((value, i) => ({ value, base: ['items', String(i)] }));
  }
  return [{ value: v, base: [] }];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Removes fields whose value is null (`labels:` with nothing after it): the Kubernetes API
 * server decodes them as unset, so they must not fail validation or reach translation.
 */
export function dropNulls(value: unknown): void {
  if (Array.isArray(value)) value.forEach(dropNulls);
  else if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (v === null) delete value[k];
      else dropNulls(v);
    }
  }
}

export function readFileObjects(source: string, file: string, text: string): FileObjects {
  const { documents, syntaxErrors } = parseYaml(text);
  if (syntaxErrors.length > 0) {
    // A syntax error can shift document boundaries, so no document of the file is trusted.
    const problems = syntaxErrors.map<ConfigProblem>((e) => ({
      severity: 'error',
      source,
      file,
      document: e.document,
      line: e.line,
      message: `YAML syntax error: ${e.message}; the objects last loaded from this file stay in effect until it parses`,
    }));
    return { parsed: false, entries: [], rejected: [], problems };
  }
  const entries: FileEntry[] = [];
  const rejected: RejectedDocument[] = [];
  const problems: ConfigProblem[] = [];
  for (const doc of documents) {
    if (doc.value === null || doc.value === undefined) continue; // empty document ("---" twice, comments only)
    const items = candidates(doc);
    if (typeof items === 'string') {
      problems.push({ severity: 'error', source, file, document: doc.index, line: doc.lineOf(['items']), field: '/items', message: items });
      continue;
    }
    for (const { value, base } of items) {
      dropNulls(value);
      const lineOf = (pointer: string): number | undefined => doc.lineOf([...base, ...parsePointer(pointer)]) ?? doc.line;
      const meta = isObj(value) && isObj(value.metadata) ? value.metadata : undefined;
      const kind = isObj(value) ? str(value.kind) : undefined;
      if (meta !== undefined && kind !== undefined) {
        if (CLUSTER_SCOPED_KINDS.has(kind) && meta.namespace !== undefined) {
          // kubectl ignores a namespace on a cluster-scoped object; so do we, but say so.
          problems.push({
            severity: 'warning',
            source,
            file,
            document: doc.index,
            line: lineOf('/metadata/namespace'),
            kind,
            name: str(meta.name),
            field: `${toPointer(base)}/metadata/namespace`,
            message: `ignored: ${kind} is cluster-scoped`,
          });
          delete meta.namespace;
        } else if (!CLUSTER_SCOPED_KINDS.has(kind) && meta.namespace === undefined) {
          meta.namespace = DEFAULT_NAMESPACE;
        }
      }
      const where = { kind, namespace: str(meta?.namespace), name: str(meta?.name) };
      const issues = validateObject(value);
      if (issues.length === 0) {
        const object = deepFreeze(value as KubeObject);
        entries.push({ key: objectKey(object), object, fingerprint: canonicalJson(object), document: doc.index, line: lineOf('') });
        continue;
      }
      const key =
        where.kind !== undefined && where.name !== undefined
          ? objectKey({ kind: where.kind, metadata: { name: where.name, namespace: where.namespace } })
          : undefined;
      rejected.push({ document: doc.index, key });
      for (const issue of issues) {
        problems.push({
          severity: 'error',
          source,
          file,
          document: doc.index,
          line: lineOf(issue.path),
          ...where,
          field: `${toPointer(base)}${issue.path}`,
          message: issue.message,
        });
      }
    }
  }
  return { parsed: true, entries, rejected, problems };
}
