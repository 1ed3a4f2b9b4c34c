/**
 * CustomResourceDefinitions made from the JSON schemas the control plane validates with
 * (control-plane/schemas/), so the API server and Ambit accept the same fields. A CRD's
 * openAPIV3Schema must be *structural* (every node typed, no $ref, no additionalProperties:
 * false, Go RE2 patterns), so the JSON schema is translated:
 *
 * - `$ref`s are inlined (a cycle is an error: structural schemas cannot recurse), `allOf` merged;
 * - `additionalProperties: false` is dropped: the API server prunes unknown fields and
 *   `kubectl apply` (strict field validation) rejects them, which is the same contract;
 * - an object with no declared fields, or `true`, keeps unknown fields
 *   (`x-kubernetes-preserve-unknown-fields`); `type: [integer, string]` is `x-kubernetes-int-or-string`;
 * - `const` becomes a one-value `enum`; a missing type is taken from the enum's values;
 * - what the API server cannot check is left to the control plane, which still validates with the
 *   full schema: `propertyNames`, patterns with look-around (RE2 has none), formats Kubernetes
 *   does not know (ip, ip-or-cidr, cluster-ip).
 *
 * Any other keyword is an error, so a new schema feature is translated on purpose, not dropped.
 */
import fs from 'node:fs';
import path from 'node:path';

type Schema = Record<string, unknown>;

export interface CrdSpec {
  /** JSON schema file name, found in one of the schema directories (e.g. authorizationpolicy.schema.json). */
  readonly schema: string;
  readonly scope: 'Namespaced' | 'Cluster';
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
}

/** Keywords translated or kept; anything else in a schema is refused. */
const KEPT = ['description', 'type', 'format', 'enum', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems', 'maxProperties', 'required'];
const HANDLED = new Set([...KEPT, '$ref', 'allOf', 'const', 'properties', 'additionalProperties', 'items', 'propertyNames', '$schema', '$id', 'title', 'definitions', 'x-hint']);
/** Formats the API server checks (k8s.io/kube-openapi strfmt) that the schemas use. */
const KUBERNETES_FORMATS = new Set(['date-time', 'hostname', 'ipv4', 'ipv6', 'cidr', 'uri', 'uuid', 'email', 'byte', 'date', 'duration']);
const LOOK_AROUND = /\(\?<?[=!]/;

export class SchemaLibrary {
  private readonly cache = new Map<string, Schema>();

  constructor(private readonly dirs: readonly string[]) {}

  load(file: string): Schema {
    const hit = this.cache.get(file);
    if (hit) return hit;
    const dir = this.dirs.find((d) => fs.existsSync(path.join(d, file)));
    if (dir === undefined) throw new Error(`schema ${file} not found in ${this.dirs.join(', ')}`);
    const schema = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Schema;
    this.cache.set(file, schema);
    return schema;
  }

  /** Where `ref` (e.g. `defs.schema.json#/definitions/x` or `#/definitions/x`) points, from `file`. */
  resolve(ref: string, file: string): { file: string; schema: Schema } {
    const [target, pointer = ''] = ref.split('#');
    const f = target === '' ? file : target;
    let node: unknown = this.load(f);
    for (const part of pointer.split('/').filter((p) => p !== '')) {
      node = (node as Schema | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    if (node === undefined || typeof node !== 'object') throw new Error(`${file}: $ref ${ref} points nowhere`);
    return { file: f, schema: node as Schema };
  }
}

/** The structural openAPIV3Schema for `schema` (found in `file`). `trail` holds the $refs being inlined. */
export function structural(lib: SchemaLibrary, schema: Schema, file: string, trail: readonly string[] = []): Schema {
  for (const k of Object.keys(schema)) if (!HANDLED.has(k)) throw new Error(`${file}: keyword "${k}" has no CRD translation (at ${trail.join(' > ') || 'top'})`);
  if (typeof schema.$ref === 'string') {
    const { file: f, schema: target } = lib.resolve(schema.$ref, file);
    const id = `${f}#${schema.$ref.split('#')[1] ?? ''}`;
    if (trail.includes(id)) throw new Error(`${file}: recursive $ref ${schema.$ref} cannot be a structural schema`);
    // Keywords beside a $ref narrow it (draft 7 ignores them, Ambit's validator applies them): merged as allOf.
    const { $ref: _ref, description, ...siblings } = schema;
    let inner = structural(lib, target, f, [...trail, id]);
    if (Object.keys(siblings).some((k) => k !== 'x-hint')) inner = mergeSchemas(inner, structural(lib, siblings, file, trail), file);
    return order(description ? { ...inner, description } : inner);
  }
  if (Array.isArray(schema.allOf)) {
    const { allOf, ...rest } = schema;
    let merged: Schema = structural(lib, rest, file, trail);
    for (const part of allOf as Schema[]) merged = mergeSchemas(merged, structural(lib, part, file, trail), file);
    if (rest.description) merged.description = rest.description;
    return order(merged);
  }
  const out: Schema = {};
  for (const k of KEPT) if (schema[k] !== undefined) out[k] = schema[k];
  if (schema.const !== undefined) out.enum = [schema.const];
  if (typeof out.pattern === 'string' && LOOK_AROUND.test(out.pattern)) delete out.pattern;
  if (typeof out.format === 'string' && !KUBERNETES_FORMATS.has(out.format)) delete out.format;

  if (Array.isArray(out.type)) {
    const types = [...(out.type as string[])].sort().join(',');
    if (types !== 'integer,string') throw new Error(`${file}: type [${types}] has no structural form (only [integer, string])`);
    delete out.type;
    out['x-kubernetes-int-or-string'] = true;
  }
  if (out.type === undefined && !out['x-kubernetes-int-or-string']) {
    if (Array.isArray(out.enum)) out.type = enumType(out.enum, file);
    else if (schema.properties || schema.additionalProperties !== undefined) out.type = 'object';
    else if (schema.items) out.type = 'array';
  }

  if (schema.properties) {
    const props: Schema = {};
    for (const [k, v] of Object.entries(schema.properties as Record<string, Schema>)) props[k] = structural(lib, v, file, [...trail, k]);
    out.properties = props;
  }
  if (isSchema(schema.additionalProperties)) out.additionalProperties = structural(lib, schema.additionalProperties, file, [...trail, '*']);
  if (schema.additionalProperties === true) out['x-kubernetes-preserve-unknown-fields'] = true;
  if (schema.items) out.items = structural(lib, schema.items as Schema, file, [...trail, '[]']);

  // An object whose fields are not declared keeps them (status written by controllers, free-form maps).
  if (out.type === 'object' && out.properties === undefined && out.additionalProperties === undefined && schema.additionalProperties !== false) {
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  if (out.type === undefined && !out['x-kubernetes-int-or-string']) out['x-kubernetes-preserve-unknown-fields'] = true;
  return order(out);
}

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

function enumType(values: unknown[], file: string): string {
  const kinds = new Set(values.map((v) => (typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v)));
  if (kinds.size === 1) return [...kinds][0];
  if ([...kinds].every((k) => k === 'integer' || k === 'number')) return 'number';
  throw new Error(`${file}: enum mixes ${[...kinds].join(' and ')}; give it a type`);
}

function mergeSchemas(a: Schema, b: Schema, file: string): Schema {
  const out: Schema = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (k === 'properties') out.properties = { ...(a.properties as Schema | undefined), ...(v as Schema) };
    else if (k === 'required') out.required = [...new Set([...((a.required as string[]) ?? []), ...(v as string[])])];
    else if (k === 'x-kubernetes-preserve-unknown-fields') continue;
    else if (a[k] !== undefined && k !== 'description' && JSON.stringify(a[k]) !== JSON.stringify(v)) throw new Error(`${file}: allOf parts disagree on "${k}"`);
    else out[k] = v;
  }
  if (out.properties) delete out['x-kubernetes-preserve-unknown-fields'];
  return out;
}

/** Keys in a fixed, readable order: description and type first, nested schemas last. */
function order(s: Schema): Schema {
  const first = ['description', 'type', 'x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields', 'format', 'enum'];
  const last = ['required', 'properties', 'additionalProperties', 'items'];
  const keys = Object.keys(s).sort((x, y) => weight(x, first, last) - weight(y, first, last) || x.localeCompare(y));
  return Object.fromEntries(keys.map((k) => [k, s[k]]));
}

const weight = (k: string, first: string[], last: string[]): number =>
  first.includes(k) ? first.indexOf(k) - 100 : last.includes(k) ? last.indexOf(k) + 100 : 0;

const plural = (kind: string): string => {
  const l = kind.toLowerCase();
  if (/[^aeiou]y$/.test(l)) return `${l.slice(0, -1)}ies`;
  if (l.endsWith('s')) return `${l}es`;
  return `${l}s`;
};

/** The CustomResourceDefinition for one kind: versions from the schema's apiVersion values, v1 (or the first) stored. */
export function crdFor(lib: SchemaLibrary, spec: CrdSpec): Schema {
  const top = lib.load(spec.schema);
  const props = (top.properties ?? {}) as Record<string, Schema>;
  const kind = props.kind?.const;
  const apiVersions = (props.apiVersion?.enum ?? (props.apiVersion?.const !== undefined ? [props.apiVersion.const] : [])) as string[];
  if (typeof kind !== 'string' || apiVersions.length === 0) throw new Error(`${spec.schema}: needs kind (const) and apiVersion (enum or const)`);
  const groups = new Set(apiVersions.map((v) => v.split('/')[0]));
  if (groups.size !== 1 || apiVersions.some((v) => !v.includes('/'))) throw new Error(`${spec.schema}: apiVersions must share one group: ${apiVersions.join(', ')}`);
  const group = [...groups][0];
  const versions = apiVersions.map((v) => v.split('/')[1]);
  const storage = versions.includes('v1') ? 'v1' : versions[0];

  const properties: Schema = {
    apiVersion: { description: 'APIVersion defines the versioned schema of this representation of an object.', type: 'string' },
    kind: { description: 'Kind is a string value representing the REST resource this object represents.', type: 'string' },
    metadata: { type: 'object' },
  };
  for (const [k, v] of Object.entries(props)) if (!(k in properties)) properties[k] = structural(lib, v, spec.schema, [k]);
  const required = ((top.required ?? []) as string[]).filter((k) => !['apiVersion', 'kind', 'metadata'].includes(k));
  const openAPIV3Schema = order({ description: top.description, type: 'object', ...(required.length ? { required } : {}), properties });

  const names: Schema = { kind, listKind: `${kind}List`, plural: plural(kind), singular: kind.toLowerCase() };
  if (spec.shortNames?.length) names.shortNames = [...spec.shortNames];
  if (spec.categories?.length) names.categories = [...spec.categories];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural(kind)}.${group}`,
      annotations: { 'ambit.dev/generated-from': spec.schema },
      labels: { 'app.kubernetes.io/part-of': 'ambit' },
    },
    spec: {
      group,
      names,
      scope: spec.scope,
      versions: versions.map((name) => ({
        name,
        served: true,
        storage: name === storage,
        schema: { openAPIV3Schema },
        subresources: props.status ? { status: {} } : undefined,
      })).map((v) => (v.subresources === undefined ? { name: v.name, served: v.served, storage: v.storage, schema: v.schema } : v)),
    },
  };
}
