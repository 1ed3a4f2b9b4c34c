/**
 * Gateway API RegularExpression matches use RE2 syntax and are full matches (the whole path,
 * header value or query value). JS RegExp is close to RE2 for the patterns people write; the few
 * RE2-only spellings that are common in route YAML are translated, everything else is passed
 * through. A pattern JS cannot compile never matches (the control plane should have rejected it).
 *
 * Unlike RE2, JS RegExp backtracks: a pathological pattern costs time per request. Routes are
 * written by service owners, not by callers, so this is accepted for now.
 */

/** RE2 leading inline flags we can express as JS flags: (?i), (?s), (?m) and combinations. */
const LEADING_FLAGS = /^\(\?([ism]+)\)/;

/**
 * Compile `pattern` anchored at both ends, or return null when it does not compile. Called once
 * per route match when the route table is built, never per request.
 */
export function compileFullMatch(pattern: string): RegExp | null {
  let flags = '';
  let source = pattern;
  const lead = LEADING_FLAGS.exec(source);
  if (lead !== null) {
    flags = [...new Set(lead[1])].join('');
    source = source.slice(lead[0].length);
  }
  source = source
    // RE2 named groups (?P<name>...) are (?<name>...) in JS.
    .replace(/\(\?P</g, '(?<')
    // RE2 \A / \z are start / end of text; without the m flag JS ^ / $ mean the same. The
    // lookbehind skips an escaped backslash followed by a letter ("\\A" is "\" then "A").
    .replace(/(?<=(?:^|[^\\])(?:\\\\)*)\\A/g, '^')
    .replace(/(?<=(?:^|[^\\])(?:\\\\)*)\\z/g, '$');
  try {
    return new RegExp(`^(?:${source})$`, flags);
  } catch {
    return null;
  }
}

export type ValueTest = (value: string) => boolean;

const NEVER: ValueTest = () => false;

/** A full-match test for `pattern`; never matches when the pattern does not compile. */
export function regexTest(pattern: string): ValueTest {
  const re = compileFullMatch(pattern);
  return re === null ? NEVER : (v) => re.test(v);
}
