/**
 * toYaml / fromYaml as Helm has them: Helm marshals through sigs.k8s.io/yaml, so map keys come
 * out sorted, sequences are not indented under their key, strings YAML 1.1 would read as
 * something else (yes, on, 0700) are quoted, and the trailing newline is dropped.
 */
import YAML from 'yaml';

export function toYaml(v: unknown): string {
  if (v === undefined) return 'null';
  const out = YAML.stringify(v, { version: '1.1', sortMapEntries: true, indentSeq: false, lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
  return out.replace(/\n$/, '');
}

export function toJson(v: unknown): string {
  return JSON.stringify(v === undefined ? null : v);
}

/** YAML as Kubernetes and Helm read it (YAML 1.1 scalars, e.g. `0644` is octal). */
export function parseYaml(text: string): unknown {
  return YAML.parse(text, { version: '1.1' });
}
