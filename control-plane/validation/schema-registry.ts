/**
 * The JSON schemas in control-plane/schemas/, compiled once into one ajv instance. Each supported
 * kind has `<kind lowercased>.schema.json`; files ending in `defs.schema.json` hold shared
 * definitions the kind schemas $ref by file name.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { projectRoot } from '../../common/project-root';
import { SUPPORTED_KINDS, type SupportedKind } from '../kube/objects';
import { addAmbitFormats } from './formats';

/** Where the schema files live (read at run time: tsc does not copy JSON into dist/). */
export const SCHEMA_DIR = path.join(projectRoot(), 'control-plane', 'schemas');

/** Annotation keyword: a plain-words description of a pattern, used in error messages. */
export const HINT_KEYWORD = 'x-hint';

export const schemaFileOf = (kind: SupportedKind): string => `${kind.toLowerCase()}.schema.json`;

export interface SchemaRegistry {
  readonly ajv: Ajv;
  validatorFor(kind: SupportedKind): ValidateFunction;
}

function readSchema(file: string): Record<string, unknown> {
  const full = path.join(SCHEMA_DIR, file);
  try {
    return JSON.parse(fs.readFileSync(full, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    // A broken schema file is a build defect, not a config problem: fail loudly.
    throw new Error(`cannot load schema ${full}: ${(e as Error).message}`, { cause: e });
  }
}

function build(): SchemaRegistry {
  const ajv = new Ajv({
    allErrors: true, // report every problem of a document at once, not the first
    verbose: true, // errors carry the failing value and schema (for hints and "got ..." in messages)
    allowUnionTypes: true, // int-or-string fields (targetPort, probe ports, quantities)
    strict: true,
  });
  addFormats(ajv, ['date-time']);
  addAmbitFormats(ajv);
  ajv.addKeyword({ keyword: HINT_KEYWORD, schemaType: 'string' });

  for (const file of fs.readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('defs.schema.json')).sort()) {
    ajv.addSchema(readSchema(file));
  }
  const validators = new Map<SupportedKind, ValidateFunction>();
  for (const kind of Object.keys(SUPPORTED_KINDS) as SupportedKind[]) {
    validators.set(kind, ajv.compile(readSchema(schemaFileOf(kind))));
  }
  return {
    ajv,
    validatorFor(kind) {
      const v = validators.get(kind);
      if (v === undefined) throw new Error(`no schema compiled for kind ${kind}`);
      return v;
    },
  };
}

let registry: SchemaRegistry | undefined;

/** The registry, compiled on first use (compiling every schema takes a noticeable moment). */
export function schemaRegistry(): SchemaRegistry {
  registry ??= build();
  return registry;
}
