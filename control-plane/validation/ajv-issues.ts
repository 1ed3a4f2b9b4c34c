/**
 * ajv's errors as operator-readable issues: the path points at the offending field itself (an
 * unknown field's own path, a missing field's would-be path, a bad map key's path), and the message
 * says what is allowed instead of quoting JSON Schema.
 */
import type { ErrorObject } from 'ajv';
import { childPointer } from './field-path';
import { FORMAT_DESCRIPTIONS } from './formats';
import { HINT_KEYWORD } from './schema-registry';
import type { ValidationIssue } from './validation-issue';

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

const typeName = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

/** Levenshtein distance, for "did you mean" on unknown fields (names are short). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

function suggestion(unknown: string, parentSchema: unknown): string {
  const props = (parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  if (props === undefined) return '';
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of Object.keys(props)) {
    const d = name.toLowerCase() === unknown.toLowerCase() ? 0 : distance(unknown, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(unknown.length / 4)) ? `; did you mean "${best}"?` : '';
}

/** Spellings upstream still accepts but Ambit does not, with what to write instead. */
const REPLACED_FIELDS: Readonly<Record<string, string>> = {
  jwks_uri: 'the deprecated proto spelling; write "jwksUri"',
  consecutiveErrors: 'deprecated upstream; use "consecutive5xxErrors" or "consecutiveGatewayErrors"',
};

function hintOf(e: ErrorObject): string | undefined {
  const hint = (e.parentSchema as Record<string, unknown> | undefined)?.[HINT_KEYWORD];
  return typeof hint === 'string' ? hint : undefined;
}

function message(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map(show).join(', ')}; got ${show(e.data)}`;
    case 'const':
      return `must be ${show(p.allowedValue)}; got ${show(e.data)}`;
    case 'type':
      return `must be ${String(p.type).split(',').join(' or ')}; got ${typeName(e.data)}`;
    case 'pattern': {
      const hint = hintOf(e);
      return `must match pattern "${String(p.pattern)}"${hint ? `: ${hint}` : ''}; got ${show(e.data)}`;
    }
    case 'format':
      return `must be ${FORMAT_DESCRIPTIONS[String(p.format)] ?? `a valid ${String(p.format)}`}; got ${show(e.data)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${e.message ?? 'out of range'}; got ${show(e.data)}`;
    case 'minLength':
    case 'maxLength': {
      const len = typeof e.data === 'string' ? e.data.length : 0;
      return `${e.message ?? 'wrong length'}; got ${len}`;
    }
    case 'minItems':
    case 'maxItems':
      return `${e.message ?? 'wrong number of items'}; got ${Array.isArray(e.data) ? e.data.length : 0}`;
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}

/** ajv errors (allErrors, verbose) to issues, deduplicated, in document order as ajv found them. */
export function issuesFromAjv(errors: readonly ErrorObject[] | null | undefined): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const seen = new Set<string>();
  const push = (path: string, msg: string): void => {
    const k = `${path}\n${msg}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ path, message: msg });
  };
  for (const e of errors ?? []) {
    // A bad map key yields the inner error (carrying propertyName) and a generic propertyNames
    // error; the inner one says why, so it is reported at the key's own path and the other dropped.
    const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;
    if (e.keyword === 'propertyNames') continue;
    if (propertyName !== undefined) {
      push(childPointer(e.instancePath, propertyName), `invalid key ${show(propertyName)}: ${message({ ...e, data: propertyName })}`);
      continue;
    }
    if (e.keyword === 'additionalProperties') {
      const field = String((e.params as { additionalProperty: string }).additionalProperty);
      const replaced = Object.prototype.hasOwnProperty.call(REPLACED_FIELDS, field) ? ` (${REPLACED_FIELDS[field]})` : undefined;
      push(childPointer(e.instancePath, field), `unknown field ${show(field)}${replaced ?? suggestion(field, e.parentSchema)}`);
      continue;
    }
    if (e.keyword === 'required') {
      const field = String((e.params as { missingProperty: string }).missingProperty);
      push(childPointer(e.instancePath, field), `missing required field ${show(field)}`);
      continue;
    }
    push(e.instancePath, message(e));
  }
  return out;
}
