/**
 * Small, defensive accessors for the semantic checks: they run on any document, schema-valid or
 * not, so every access tolerates a missing or mistyped field instead of throwing.
 */
import { childPointer } from './field-path';
import type { ValidationIssue } from './validation-issue';

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const objAt = (v: unknown, key: string): Obj | undefined => (isObj(v) && isObj(v[key]) ? v[key] : undefined);

export const listAt = (v: unknown, key: string): unknown[] => (isObj(v) && Array.isArray(v[key]) ? (v[key] as unknown[]) : []);

export const strAt = (v: unknown, key: string): string | undefined => (isObj(v) && typeof v[key] === 'string' ? v[key] : undefined);

export const isSet = (v: unknown, key: string): boolean => isObj(v) && v[key] !== undefined && v[key] !== null;

/** Collects issues with paths built from a base pointer. */
export class IssueList {
  readonly items: ValidationIssue[] = [];

  add(path: string, message: string): void {
    this.items.push({ path, message });
  }

  /** Reports every item whose key repeats an earlier one ("duplicate <what> ..."). */
  duplicates(base: string, items: unknown[], keyOf: (item: unknown) => string | undefined, what: string, field?: string): void {
    const first = new Map<string, number>();
    items.forEach((item, i) => {
      const key = keyOf(item);
      if (key === undefined) return;
      const at = first.get(key);
      const path = field === undefined ? childPointer(base, i) : childPointer(childPointer(base, i), field);
      if (at === undefined) first.set(key, i);
      else this.add(path, `duplicate ${what} ${key} (already at ${childPointer(base, at)})`);
    });
  }

  /** At most one of these fields may be set on the object at `path`. */
  exclusive(path: string, o: unknown, fields: readonly string[], why = ''): void {
    const set = fields.filter((f) => isSet(o, f));
    if (set.length > 1) this.add(childPointer(path, set[1]), `${set.map((f) => `"${f}"`).join(' and ')} are mutually exclusive${why}`);
  }
}

/** Milliseconds of a Gateway API / Go duration already checked by the schema; undefined if unreadable. */
export function durationMs(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  if (text === '0') return 0;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
  const re = /([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m === null) return undefined;
    total += Number(m[1]) * unit[m[2]];
    at = re.lastIndex;
  }
  return at === 0 ? undefined : total;
}
