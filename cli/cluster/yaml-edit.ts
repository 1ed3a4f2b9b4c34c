// Label edits on a user's YAML file, in place: only the document that defines the Namespace is
// re-rendered (through the `yaml` Document API, so its comments, key order and flow/block style
// survive); every other document of the file stays byte for byte as written.
import YAML, { type Document } from 'yaml';
import type { LabelChanges, LabelMap } from './target';

type Path = Array<string | number>;

/** Where Namespace `name` sits in a document: the root, or items[i] of a `kind: List`. */
function namespacePaths(doc: Document, name: string): Path[] {
  let v: unknown;
  try {
    v = doc.toJS();
  } catch {
    return [];
  }
  const isNs = (o: unknown): boolean => {
    const obj = o as { kind?: unknown; metadata?: { name?: unknown } } | null;
    return obj !== null && typeof obj === 'object' && obj.kind === 'Namespace' && obj.metadata?.name === name;
  };
  if (isNs(v)) return [[]];
  const items = (v as { kind?: unknown; items?: unknown } | null)?.items;
  if (typeof (v as { kind?: unknown })?.kind === 'string' && Array.isArray(items)) {
    return items.flatMap((item, i) => (isNs(item) ? [['items', i]] : []));
  }
  return [];
}

function applyLabels(doc: Document, base: Path, changes: LabelChanges): void {
  const at = [...base, 'metadata', 'labels'];
  const labels = doc.getIn(at, true);
  if (!YAML.isMap(labels)) {
    // No labels yet (absent, or `labels:` with nothing after it): a new block map.
    const set = Object.entries(changes).filter(([, v]) => v !== null);
    if (set.length > 0) doc.setIn(at, doc.createNode(Object.fromEntries(set)));
    return;
  }
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) labels.delete(key);
    else labels.set(key, value);
  }
}

/** Keeps `{ a: b }` vs `{a: b}` as the document wrote its flow collections. */
const flowPadding = (source: string): boolean => !/[[{][^\s\]}]/.test(source) || /[[{] \S/.test(source);

/**
 * The file's text with the labels of Namespace `name` changed, or undefined when the file does
 * not define it. Throws on a YAML syntax error (nothing in such a file can be trusted).
 */
export function editNamespaceLabels(text: string, name: string, changes: LabelChanges): string | undefined {
  const docs = YAML.parseAllDocuments(text);
  let out = text;
  let found = false;
  // Last document first, so the offsets of earlier ones stay valid while splicing.
  for (let i = docs.length - 1; i >= 0; i--) {
    const doc = docs[i];
    if (doc.errors.length > 0) throw new Error(`YAML syntax error: ${doc.errors[0].message}`);
    const paths = namespacePaths(doc, name);
    if (paths.length === 0) continue;
    found = true;
    for (const p of paths) applyLabels(doc, p, changes);
    // The first document also owns whatever precedes it (leading comments, a `---`).
    const start = i === 0 ? 0 : doc.range[0];
    const end = doc.range[2];
    const rendered = doc.toString({ lineWidth: 0, flowCollectionPadding: flowPadding(text.slice(start, end)) });
    out = out.slice(0, start) + rendered + out.slice(end);
  }
  return found ? out : undefined;
}

/** A new file defining Namespace `name` (the directory had objects in it, but no Namespace). */
export function namespaceYaml(name: string, labels: LabelMap, why: string): string {
  const doc = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...labels } } };
  return `# ${why}\n${YAML.stringify(doc)}`;
}
