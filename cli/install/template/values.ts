/**
 * Template data and Go's rules for it: truth, emptiness, printing, field access. Maps and lists
 * are plain JS objects and arrays (from YAML); Helm's built-in objects (.Release, .Chart, the
 * top-level context) are GoStructs, whose unknown fields are errors rather than nil, as in Go.
 */

export class GoStruct {
  constructor(
    readonly typeName: string,
    readonly fields: Readonly<Record<string, unknown>>,
    /** Why a field Helm has but this renderer does not (e.g. .Files) is missing. */
    readonly unsupported: Readonly<Record<string, string>> = {},
  ) {}
}

export type Dict = Record<string, unknown>;

export const isDict = (v: unknown): v is Dict =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoStruct);

/** Go's template truth (text/template isTrue): zero values and empty collections are false. */
export function truth(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof GoStruct) return true;
  if (isDict(v)) return Object.keys(v).length > 0;
  return true;
}

/** Sprig's `empty`: the opposite of truth. */
export const empty = (v: unknown): boolean => !truth(v);

/** What the type is called in messages. */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'list';
  if (v instanceof GoStruct) return v.typeName;
  if (isDict(v)) return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  return typeof v;
}

/** Go's %v of a number: integers plainly, floats in their shortest form (1e+21 and up exponential). */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const s = String(n);
  return s.replace(/e\+?(-?)(\d)$/, 'e+$10$2').replace('e+-', 'e-');
}

/** A scalar as `{{ }}` prints it (Helm prints a missing value as ""). Collections are refused by the caller. */
export function printScalar(v: unknown): string | undefined {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return undefined;
}

/** Sprig's toString/strval: scalars as printed, anything else as YAML-ish JSON. */
export function stringValue(v: unknown): string {
  const s = printScalar(v);
  return s ?? JSON.stringify(v);
}
