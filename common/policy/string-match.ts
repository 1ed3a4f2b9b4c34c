/**
 * Istio's string matches and the "field" shape every AuthorizationPolicy field shares, used by the
 * agent (L4) and the waypoint (L7). Policies are compiled once per version, so parsing happens per
 * policy, not per connection or request.
 */
import type { StringMatch__Output } from '../proto/generated/ambit/v1/StringMatch';

/** A test of one value; the value is undefined when the request/connection has none. */
export type Matcher<T> = (value: T) => boolean;

/** Which oneof case a decoded StringMatch carries (the `match` discriminator, or the set field). */
export function matchKind(m: StringMatch__Output): 'exact' | 'prefix' | 'suffix' | 'presence' | undefined {
  if (m.match !== undefined) return m.match;
  if (m.exact !== undefined) return 'exact';
  if (m.prefix !== undefined) return 'prefix';
  if (m.suffix !== undefined) return 'suffix';
  return m.presence !== undefined ? 'presence' : undefined;
}

/**
 * Istio's string match (control-plane/translate/string-match.ts made "*" presence, "p*" prefix,
 * "*s" suffix). Like ztunnel, a missing value is the empty string: only exact "" could match it,
 * and presence never does. `fold` lower-cases both sides (hosts are case-insensitive, RFC 4343).
 */
export function stringMatcher(m: StringMatch__Output, fold = false): Matcher<string | undefined> {
  const norm = fold ? (s: string): string => s.toLowerCase() : (s: string): string => s;
  const val = (v: string | undefined): string => norm(v ?? '');
  switch (matchKind(m)) {
    case 'exact': {
      const want = norm(m.exact ?? '');
      return (v) => val(v) === want;
    }
    case 'prefix': {
      const p = norm(m.prefix ?? '');
      return (v) => val(v).startsWith(p);
    }
    case 'suffix': {
      const s = norm(m.suffix ?? '');
      return (v) => val(v).endsWith(s);
    }
    case 'presence':
      return (v) => v !== undefined && v !== '';
    default:
      // A matcher with no case set matches nothing: it cannot say what it wanted.
      return () => false;
  }
}

export const stringMatchers = (list: readonly StringMatch__Output[], fold = false): Matcher<string | undefined>[] =>
  list.map((m) => stringMatcher(m, fold));

/**
 * One field of a rule: any positive entry must match (when there are any) and no negative entry
 * may. Both empty: the field does not constrain (ztunnel's matches_internal).
 */
export interface FieldMatcher<T> {
  readonly positive: readonly Matcher<T>[];
  readonly negative: readonly Matcher<T>[];
}

export const field = <T>(positive: Matcher<T>[], negative: Matcher<T>[]): FieldMatcher<T> => ({ positive, negative });

export function fieldMatches<T>(f: FieldMatcher<T>, value: T): boolean {
  if (f.positive.length > 0 && !f.positive.some((m) => m(value))) return false;
  return !f.negative.some((m) => m(value));
}

export const isEmptyField = (f: FieldMatcher<unknown>): boolean => f.positive.length === 0 && f.negative.length === 0;

/** A matcher over a value that may be a list (JWT audiences, list claims): any element matching is a match. */
export const anyOf =
  <T>(m: Matcher<T | undefined>): Matcher<readonly T[]> =>
  (values) =>
    values.length === 0 ? m(undefined) : values.some((v) => m(v));
