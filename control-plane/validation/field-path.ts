/**
 * Field paths as JSON pointers (RFC 6901): "/spec/rules/0/to/0/operation/ports/1". Validation
 * reports them, the YAML source maps them back to line numbers, and problems show them verbatim.
 */

export type PathSegment = string | number;

const escape = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');
const unescape = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~');

/** The pointer for these segments ("" is the whole document). */
export function toPointer(segments: readonly PathSegment[]): string {
  return segments.map((s) => `/${escape(String(s))}`).join('');
}

/** A pointer with one more segment. */
export function childPointer(pointer: string, segment: PathSegment): string {
  return `${pointer}/${escape(String(segment))}`;
}

/** The segments of a pointer; array indexes stay strings (a YAML map may have key "0" too). */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map(unescape);
}
