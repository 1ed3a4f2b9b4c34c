/**
 * The JSON schemas of control-plane/schemas/, as files the reference reads: loaded once, `$ref`s
 * resolved ("#/definitions/x" within a file, "defs.schema.json#/definitions/x" across files), and
 * every keyword checked against the set the renderer understands, so a schema using something new
 * fails the generator (and its test) instead of silently vanishing from the reference.
 */
import fs from 'node:fs';
import path from 'node:path';

/** A schema node, as parsed JSON. */
export type Schema = { readonly [keyword: string]: unknown };

/** A node together with where it lives: needed to resolve the `$ref`s inside it. */
export interface Located {
  readonly schema: Schema;
  /** File name within the schema directory, e.g. "httproute.schema.json". */
  readonly file: string;
  /** JSON pointer within that file, e.g. "/definitions/rule". */
  readonly pointer: string;
}

/** Keywords the renderer knows what to do with (JSON Schema draft-07 subset + Ambit's x-hint). */
const KNOWN_KEYWORDS: ReadonlySet<string> = new Set([
  '$schema', '$id', 'title', 'description', 'x-hint', 'default',
  'type', 'enum', 'const', '$ref', 'allOf', 'definitions',
  'properties', 'required', 'additionalProperties', 'propertyNames', 'minProperties', 'maxProperties',
  'items', 'minItems', 'maxItems', 'uniqueItems',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'minLength', 'maxLength', 'pattern', 'format',
]);

/** Keywords whose value is a map of names to subschemas. */
const SCHEMA_MAPS = ['properties', 'definitions'] as const;
/** Keywords whose value is one subschema (or a boolean, for additionalProperties). */
const SCHEMA_SLOTS = ['items', 'additionalProperties', 'propertyNames'] as const;

export const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapePointer = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~');

export class SchemaFiles {
  private constructor(private readonly files: ReadonlyMap<string, Schema>) {}

  /** Every `*.schema.json` in `dir`, each checked for keywords the renderer does not know. */
  static load(dir: string): SchemaFiles {
    const files = new Map<string, Schema>();
    for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.schema.json')).sort()) {
      const parsed: unknown = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
      if (!isSchema(parsed)) throw new Error(`${name}: a schema file must hold a JSON object`);
      checkKeywords(parsed, name, '');
      files.set(name, parsed);
    }
    return new SchemaFiles(files);
  }

  get names(): readonly string[] {
    return [...this.files.keys()];
  }

  root(file: string): Located {
    const schema = this.files.get(file);
    if (schema === undefined) throw new Error(`no schema file ${file}`);
    return { schema, file, pointer: '' };
  }

  /** A child node of `at` (e.g. child(at, 'properties', 'spec')). */
  child(at: Located, ...steps: string[]): Located {
    let node: unknown = at.schema;
    for (const s of steps) node = isSchema(node) ? node[s] : Array.isArray(node) ? node[Number(s)] : undefined;
    if (!isSchema(node)) throw new Error(`${at.file}#${at.pointer}: no schema at ${steps.join('/')}`);
    return { schema: node, file: at.file, pointer: `${at.pointer}/${steps.map(escapePointer).join('/')}` };
  }

  /** The node a `$ref` names, resolved from the file it appears in. */
  resolve(ref: string, from: string): Located {
    const hash = ref.indexOf('#');
    const file = hash <= 0 ? (hash === 0 ? from : ref) : ref.slice(0, hash);
    const pointer = hash < 0 ? '' : ref.slice(hash + 1);
    let node: unknown = this.root(file).schema;
    for (const part of pointer.split('/').filter((p) => p !== '')) {
      node = isSchema(node) ? node[unescapePointer(part)] : undefined;
    }
    if (!isSchema(node)) throw new Error(`${from}: $ref ${ref} does not resolve`);
    return { schema: node, file, pointer };
  }

  /** Follows `$ref` chains to the node that defines the type. */
  target(at: Located): Located {
    let cur = at;
    for (let hops = 0; typeof cur.schema.$ref === 'string'; hops++) {
      if (hops > 32) throw new Error(`${at.file}#${at.pointer}: $ref chain too long`);
      cur = this.resolve(cur.schema.$ref, cur.file);
    }
    return cur;
  }
}

function checkKeywords(node: Schema, file: string, pointer: string): void {
  for (const [k, v] of Object.entries(node)) {
    if (!KNOWN_KEYWORDS.has(k)) {
      throw new Error(`${file}#${pointer}: schema keyword "${k}" is not understood by tools/config-reference; teach it there`);
    }
    if ((SCHEMA_MAPS as readonly string[]).includes(k) && isSchema(v)) {
      for (const [name, sub] of Object.entries(v)) if (isSchema(sub)) checkKeywords(sub, file, `${pointer}/${k}/${escapePointer(name)}`);
    } else if ((SCHEMA_SLOTS as readonly string[]).includes(k) && isSchema(v)) {
      checkKeywords(v, file, `${pointer}/${k}`);
    } else if (k === 'allOf' && Array.isArray(v)) {
      v.forEach((sub, i) => isSchema(sub) && checkKeywords(sub, file, `${pointer}/allOf/${i}`));
    }
  }
}
