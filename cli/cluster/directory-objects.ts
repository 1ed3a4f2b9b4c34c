// The objects of a local runtime's YAML directory and where each is defined (file, document,
// line), read the way the runtime's own source reads them (same file listing, same parsing and
// defaulting), so the CLI edits exactly what the runtime serves.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { KubeObject } from '../../control-plane/kube/objects';
import { readFileObjects } from '../../control-plane/sources/yaml/file-objects';
import { listYamlFiles } from '../../control-plane/sources/yaml/list-yaml-files';

export interface LocatedObject {
  object: KubeObject;
  /** Relative to the directory. */
  file: string;
  /** 1-based document index in the file. */
  document: number;
  line?: number;
}

export interface DirectoryObjects {
  dir: string;
  objects: LocatedObject[];
  /** Files with YAML syntax errors ("file:line message"): nothing in them is known. */
  unparsable: string[];
}

export async function readDirectoryObjects(dir: string): Promise<DirectoryObjects> {
  const { files } = await listYamlFiles(dir);
  const objects: LocatedObject[] = [];
  const unparsable: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await fs.readFile(path.join(dir, file), 'utf8');
    } catch {
      continue; // removed meanwhile
    }
    const read = readFileObjects(`yaml:${dir}`, file, text);
    if (!read.parsed) {
      const first = read.problems[0];
      unparsable.push(`${file}${first?.line !== undefined ? `:${first.line}` : ''} ${first?.message ?? 'YAML syntax error'}`);
      continue;
    }
    for (const e of read.entries) objects.push({ object: e.object, file, document: e.document, ...(e.line !== undefined ? { line: e.line } : {}) });
  }
  return { dir, objects, unparsable };
}

export const namespaceOfObject = (o: KubeObject): string => o.metadata.namespace ?? 'default';

/** Every definition of `kind` namespace/name (more than one when the directory repeats it). */
export function definitionsOf(d: DirectoryObjects, kind: string, namespace: string | undefined, name: string): LocatedObject[] {
  return d.objects.filter(
    (o) => o.object.kind === kind && o.object.metadata.name === name && (namespace === undefined || o.object.metadata.namespace === namespace),
  );
}

export const where = (o: LocatedObject): string => `${o.file}${o.line !== undefined ? `:${o.line}` : ''}`;
