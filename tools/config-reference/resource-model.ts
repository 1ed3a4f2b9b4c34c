/**
 * Turns the per-kind JSON schemas into a model of the reference: one section per object (the
 * kind itself, each nested object, each shared object definition), one row per field with its
 * type, required-ness and description, and a glossary of the named value types (DNS labels,
 * durations, ports, ...) the fields link to. `$ref`s are followed, `allOf` parts merged.
 */
import type { Located, Schema, SchemaFiles } from './schema-files';
import { isSchema } from './schema-files';
import { anchorId, code, link, text as mdText } from './markdown';

export interface FieldRow {
  readonly name: string;
  /** Markdown: the type, with links to object sections and value types. */
  readonly type: string;
  readonly required: boolean;
  /** Markdown: the description, then default and constraints. */
  readonly description: string;
}

export interface ObjectSection {
  readonly id: string;
  /** Markdown heading text. */
  readonly title: string;
  /** The kind whose schema file defines it, or undefined for shared definitions. */
  readonly owner: string | undefined;
  readonly description: string;
  /** Whether fields not listed are refused (additionalProperties: false). */
  readonly closed: boolean;
  readonly rows: FieldRow[];
}

export interface ValueType {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly description: string;
  readonly constraints: string;
}

export interface KindInfo {
  readonly kind: string;
  readonly file: string;
  readonly apiVersions: readonly string[];
  readonly clusterScoped: boolean;
}

interface Place {
  /** Who owns sections created here. */
  readonly owner: string | undefined;
  /** Field path from the section's root, e.g. "spec.rules[].from[]". */
  readonly path: string;
  /** How titles of sections created here start: a kind name, or a shared definition's name. */
  readonly titleRoot: string;
}

interface TypeInfo {
  readonly type: string;
  readonly constraints: readonly string[];
  /** The referenced definition's description, for a field that has none of its own. */
  readonly fallbackDescription?: string;
}

const isObjectType = (s: Schema): boolean => s.type === 'object' || (s.type === undefined && (isSchema(s.properties) || Array.isArray(s.allOf)));
const hasFields = (s: Schema): boolean => isSchema(s.properties) || Array.isArray(s.allOf);
const isScalar = (s: Schema): boolean => s.enum !== undefined || s.const !== undefined || (s.type !== undefined && s.type !== 'object' && s.type !== 'array');
const lastSegment = (pointer: string): string => pointer.slice(pointer.lastIndexOf('/') + 1);
/** A schema string (description, hint) as Markdown-safe text. */
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? mdText(v.trim()) : undefined);
/** A JSON value as inline code; strings without their quotes unless empty. */
const json = (v: unknown): string => (typeof v === 'string' && v !== '' ? code(v) : code(JSON.stringify(v)));
const sentence = (s: string): string => (/[.!?)]$/.test(s) ? s : `${s}.`);

/** Plain-words constraints of one node (not of what it references). */
function constraintsOf(s: Schema): string[] {
  const out: string[] = [];
  const num = (k: string): number | undefined => (typeof s[k] === 'number' ? (s[k] as number) : undefined);
  const min = num('minimum');
  const max = num('maximum');
  if (min !== undefined && max !== undefined) out.push(`${min}–${max}`);
  else if (min !== undefined) out.push(`≥ ${min}`);
  else if (max !== undefined) out.push(`≤ ${max}`);
  if (num('exclusiveMinimum') !== undefined) out.push(`> ${num('exclusiveMinimum')}`);
  if (num('exclusiveMaximum') !== undefined) out.push(`< ${num('exclusiveMaximum')}`);
  if (num('multipleOf') !== undefined) out.push(`a multiple of ${num('multipleOf')}`);
  const minLen = num('minLength');
  const maxLen = num('maxLength');
  if (minLen !== undefined && maxLen !== undefined) out.push(`${minLen}–${maxLen} characters`);
  else if (minLen !== undefined) out.push(minLen === 1 ? 'not empty' : `at least ${minLen} characters`);
  else if (maxLen !== undefined) out.push(`at most ${maxLen} characters`);
  const hint = str(s['x-hint']);
  if (hint !== undefined) out.push(hint);
  else if (typeof s.pattern === 'string') out.push(`matches ${code(s.pattern)}`);
  if (typeof s.format === 'string') out.push(`format ${code(s.format)}`);
  const minItems = num('minItems');
  const maxItems = num('maxItems');
  if (minItems !== undefined) out.push(`at least ${minItems} item${minItems === 1 ? '' : 's'}`);
  if (maxItems !== undefined) out.push(`at most ${maxItems} items`);
  if (s.uniqueItems === true) out.push('no duplicates');
  if (num('minProperties') !== undefined) out.push(`at least ${num('minProperties')} entries`);
  if (num('maxProperties') !== undefined) out.push(`at most ${num('maxProperties')} entries`);
  return out;
}

function baseType(s: Schema): string {
  if (s.const !== undefined) return json(s.const);
  if (Array.isArray(s.enum)) return `one of ${s.enum.map(json).join(', ')}`;
  if (Array.isArray(s.type)) return s.type.join(' or ');
  return typeof s.type === 'string' ? s.type : 'any';
}

export class ResourceModel {
  readonly sections = new Map<string, ObjectSection>();
  readonly valueTypes = new Map<string, ValueType>();
  /** Fields (file#pointer) with no description of their own nor a referenced one. */
  readonly undocumented: string[] = [];
  private readonly ownerOfFile = new Map<string, string>();

  constructor(
    private readonly files: SchemaFiles,
    readonly kinds: readonly KindInfo[],
  ) {
    for (const k of kinds) this.ownerOfFile.set(k.file, k.kind);
    for (const k of kinds) this.objectSection(files.root(k.file), { owner: k.kind, path: '', titleRoot: k.kind }, anchorId(k.kind), k.kind);
  }

  /** The kind's own section (its top-level fields). */
  kindSection(kind: string): ObjectSection {
    const s = this.sections.get(`${this.kinds.find((k) => k.kind === kind)?.file}#`);
    if (s === undefined) throw new Error(`no section for kind ${kind}`);
    return s;
  }

  /** Sections owned by a kind (its own first), or the shared ones (owner undefined), in discovery order. */
  sectionsOf(owner: string | undefined): ObjectSection[] {
    return [...this.sections.values()].filter((s) => s.owner === owner);
  }

  private readonly ids = new Set<string>();

  /** Anchors must be unique in a file; a clash (a path spelled like a definition) gets a suffix. */
  private uniqueId(id: string): string {
    let out = id;
    for (let n = 2; this.ids.has(out); n++) out = `${id}-${n}`;
    this.ids.add(out);
    return out;
  }

  private key(at: Located): string {
    return `${at.file}#${at.pointer}`;
  }

  private objectSection(at: Located, place: Place, id: string, title: string): ObjectSection {
    const existing = this.sections.get(this.key(at));
    if (existing !== undefined) return existing;
    const parts = this.parts(at);
    const section: ObjectSection = {
      id: this.uniqueId(id),
      title,
      owner: place.owner,
      description: str(at.schema.description) ?? parts.map((p) => str(p.schema.description)).find((d) => d !== undefined) ?? '',
      closed: parts.some((p) => p.schema.additionalProperties === false),
      rows: [],
    };
    // Registered before its rows are built, so a recursive reference links back instead of looping.
    this.sections.set(this.key(at), section);
    const required = new Set(parts.flatMap((p) => (Array.isArray(p.schema.required) ? (p.schema.required as string[]) : [])));
    const fields = new Map<string, Located>();
    // allOf: every part applies; a later part's field (a narrower type) is the one documented.
    for (const p of parts) {
      if (!isSchema(p.schema.properties)) continue;
      for (const name of Object.keys(p.schema.properties)) fields.set(name, this.files.child(p, 'properties', name));
    }
    for (const [name, field] of fields) {
      const path = place.path === '' ? name : `${place.path}.${name}`;
      const info = this.typeOf(field, { ...place, path });
      const own = str(field.schema.description);
      const text = own ?? info.fallbackDescription;
      if (text === undefined) this.undocumented.push(this.key(field));
      const extras: string[] = [];
      if (field.schema.default !== undefined) extras.push(`Default: ${json(field.schema.default)}.`);
      if (info.constraints.length > 0) extras.push(`*${sentence(info.constraints.join('; '))}*`);
      section.rows.push({ name, type: info.type, required: required.has(name), description: [text ? sentence(text) : '', ...extras].filter((x) => x !== '').join(' ') });
    }
    return section;
  }

  /** The node itself, or its allOf parts (each resolved), whose properties make up the object. */
  private parts(at: Located): Located[] {
    if (!Array.isArray(at.schema.allOf)) return [at];
    const parts = at.schema.allOf.map((_, i) => this.files.target(this.files.child(at, 'allOf', String(i))));
    return [at, ...parts.flatMap((p) => this.parts(p))];
  }

  private typeOf(at: Located, place: Place): TypeInfo {
    const s = at.schema;
    const own = constraintsOf(s);
    if (typeof s.$ref === 'string') {
      const target = this.files.target(at);
      const name = lastSegment(target.pointer);
      const fallbackDescription = str(target.schema.description);
      if (isObjectType(target.schema) && hasFields(target.schema)) {
        const section = this.definitionSection(target, name);
        return { type: link(name, section.id), constraints: own, fallbackDescription };
      }
      if (isScalar(target.schema) && target.pointer.startsWith('/definitions/')) {
        const vt = this.valueType(target, name);
        return { type: `${baseType(target.schema)} (${link(name, vt.id)})`, constraints: own, fallbackDescription };
      }
      // Lists and maps are clearer spelled out where they are used.
      const inner = this.typeOf(target, place);
      return { type: inner.type, constraints: [...own, ...inner.constraints], fallbackDescription: fallbackDescription ?? inner.fallbackDescription };
    }
    if (isObjectType(s) && hasFields(s)) {
      const section = this.objectSection(at, place, anchorId(place.titleRoot, place.path), `${place.titleRoot} ${code(place.path)}`);
      return { type: link('object', section.id), constraints: own };
    }
    if (s.type === 'array') {
      if (!isSchema(s.items)) return { type: 'array', constraints: own };
      const items = this.typeOf(this.files.child(at, 'items'), { ...place, path: `${place.path}[]` });
      return { type: `array of ${items.type}`, constraints: [...own, ...items.constraints.map((c) => `each item: ${c}`)] };
    }
    if (isObjectType(s) && isSchema(s.additionalProperties)) {
      const keys = isSchema(s.propertyNames) ? this.typeOf(this.files.child(at, 'propertyNames'), place) : undefined;
      const values = this.typeOf(this.files.child(at, 'additionalProperties'), { ...place, path: `${place.path}.<key>` });
      return {
        type: `map of ${keys?.type ?? 'string'} to ${values.type}`,
        constraints: [...own, ...(keys?.constraints ?? []).map((c) => `keys: ${c}`), ...values.constraints.map((c) => `values: ${c}`)],
      };
    }
    return { type: baseType(s), constraints: own };
  }

  /** A section for a named object definition: shared ones by their name, a kind's own by the path first seen. */
  private definitionSection(target: Located, name: string): ObjectSection {
    const existing = this.sections.get(this.key(target));
    if (existing !== undefined) return existing;
    const owner = this.ownerOfFile.get(target.file);
    const fileStem = target.file.replace(/\.schema\.json$/, '');
    if (owner === undefined) {
      return this.objectSection(target, { owner: undefined, path: '', titleRoot: name }, anchorId(fileStem, name), code(name));
    }
    return this.objectSection(target, { owner, path: '', titleRoot: `${owner} ${name}` }, anchorId(owner, name), `${owner} ${code(name)}`);
  }

  private valueType(target: Located, name: string): ValueType {
    const key = this.key(target);
    const existing = this.valueTypes.get(key);
    if (existing !== undefined) return existing;
    const owner = this.ownerOfFile.get(target.file);
    const vt: ValueType = {
      id: this.uniqueId(anchorId('type', owner ?? target.file.replace(/\.schema\.json$/, ''), name)),
      name: owner === undefined ? name : `${owner} ${name}`,
      type: baseType(target.schema),
      description: str(target.schema.description) ?? '',
      constraints: constraintsOf(target.schema).join('; '),
    };
    this.valueTypes.set(key, vt);
    return vt;
  }
}
