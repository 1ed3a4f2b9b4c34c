// Istio's string matching rules for AuthorizationPolicy fields: "*" matches any non-empty value,
// "prefix*" a prefix, "*suffix" a suffix, anything else exactly.
import type { StringMatch } from '../../common/proto/generated/ambit/v1/StringMatch';

export function toStringMatch(value: string): StringMatch {
  if (value === '*') return { presence: true };
  if (value.length > 1 && value.endsWith('*')) return { prefix: value.slice(0, -1) };
  if (value.length > 1 && value.startsWith('*')) return { suffix: value.slice(1) };
  return { exact: value };
}

export const toStringMatches = (values: readonly string[] | undefined): StringMatch[] => (values ?? []).map(toStringMatch);
