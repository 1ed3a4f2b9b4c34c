/**
 * Splits a Go template (the subset Helm charts use, see template/README in docs/install.md) into
 * text and actions, applies the `{{-` / `-}}` whitespace trimming, and tokenizes each action.
 * Go's rules (text/template/parse/lex.go): a trim marker is a dash with ASCII white space on its
 * inner side, so `{{-3}}` is the number -3; a comment is `{{/* ... *\/}}` right at the delimiters.
 */
import { templateError, type SourcePos } from '../errors';

export type Token =
  | { kind: 'string'; value: string; pos: SourcePos }
  | { kind: 'number'; value: number; pos: SourcePos }
  | { kind: 'ident'; value: string; pos: SourcePos }
  /** `.` (path []) or `.a.b`; `adjacent` = no white space before it (a field of the previous operand). */
  | { kind: 'field'; path: string[]; adjacent: boolean; pos: SourcePos }
  /** `$` or `$name`, with an optional `.a.b` path. */
  | { kind: 'var'; name: string; path: string[]; pos: SourcePos }
  | { kind: 'punct'; value: '(' | ')' | '|' | ',' | ':=' | '='; pos: SourcePos };

export type Item =
  | { kind: 'text'; text: string; pos: SourcePos }
  | { kind: 'action'; tokens: Token[]; pos: SourcePos };

const SPACE = /[ \t\r\n]/;
const IDENT_START = /[A-Za-z_]/;
const IDENT = /[A-Za-z0-9_]/;

const countLines = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
};

/** Text and actions of one template file, trimming applied, comments dropped. */
export function lex(src: string, file: string): Item[] {
  const items: Item[] = [];
  let i = 0;
  let line = 1;
  let trimNextText = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open === -1 ? src.length : open);
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, '');
    trimNextText = false;
    const textPos = { file, line };
    line += countLines(src.slice(i, open === -1 ? src.length : open));
    if (open === -1) {
      if (text !== '') items.push({ kind: 'text', text, pos: textPos });
      break;
    }
    let j = open + 2;
    const trimLeft = src[j] === '-' && SPACE.test(src[j + 1] ?? '');
    if (trimLeft) {
      j += 2;
      text = text.replace(/[ \t\r\n]+$/, '');
    }
    if (text !== '') items.push({ kind: 'text', text, pos: textPos });
    const actionPos = { file, line };
    // A comment: `/*` right after the delimiter (and its trim marker), `*/` right before the close.
    const afterSpace = trimLeft ? src.slice(j).match(/^[ \t\r\n]*/)![0].length : 0;
    if (src.startsWith('/*', j + afterSpace)) {
      const end = src.indexOf('*/', j + afterSpace + 2);
      if (end === -1) throw templateError(actionPos, 'unclosed comment');
      const rest = src.slice(end + 2);
      const close = /^(?:[ \t\r\n]+-)?}}/.exec(rest) ?? /^}}/.exec(rest);
      if (close === null) throw templateError({ file, line: line + countLines(src.slice(open, end)) }, 'comment ends before closing delimiter');
      trimNextText = close[0].length > 2;
      line += countLines(src.slice(open, end + 2 + close[0].length));
      i = end + 2 + close[0].length;
      continue;
    }
    const { tokens, end, trimRight } = lexAction(src, j, file, line);
    items.push({ kind: 'action', tokens, pos: actionPos });
    line += countLines(src.slice(open, end));
    trimNextText = trimRight;
    i = end;
  }
  return items;
}

/** Tokens from `start` up to the closing `}}` (or ` -}}`); `end` is just past it. */
function lexAction(src: string, start: number, file: string, firstLine: number): { tokens: Token[]; end: number; trimRight: boolean } {
  const tokens: Token[] = [];
  let i = start;
  let line = firstLine;
  let spaceBefore = true;
  const at = (): SourcePos => ({ file, line });
  for (;;) {
    if (i >= src.length) throw templateError({ file, line: firstLine }, 'unclosed action: missing "}}"');
    const c = src[i];
    if (SPACE.test(c)) {
      // " -}}": the trim marker, then the close.
      if (src[i + 1] === '-' && src.startsWith('}}', i + 2)) return { tokens, end: i + 4, trimRight: true };
      if (c === '\n') line++;
      i++;
      spaceBefore = true;
      continue;
    }
    if (src.startsWith('}}', i)) return { tokens, end: i + 2, trimRight: false };
    const pos = at();
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') j++;
        if (src[j] === '\n') throw templateError(pos, 'unterminated quoted string');
        j++;
      }
      if (j >= src.length) throw templateError(pos, 'unterminated quoted string');
      let value: string;
      try {
        value = JSON.parse(src.slice(i, j + 1)) as string;
      } catch {
        throw templateError(pos, `unsupported escape in string ${src.slice(i, j + 1)}`);
      }
      tokens.push({ kind: 'string', value, pos });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j === -1) throw templateError(pos, 'unterminated raw string');
      tokens.push({ kind: 'string', value: src.slice(i + 1, j), pos });
      line += countLines(src.slice(i, j));
      i = j + 1;
    } else if (c === '.' && !/[0-9]/.test(src[i + 1] ?? '')) {
      const { path, end } = lexPath(src, i);
      tokens.push({ kind: 'field', path, adjacent: !spaceBefore, pos });
      i = end;
    } else if (c === '$') {
      let j = i + 1;
      while (j < src.length && IDENT.test(src[j])) j++;
      const name = src.slice(i, j);
      const { path, end } = src[j] === '.' ? lexPath(src, j) : { path: [], end: j };
      tokens.push({ kind: 'var', name, path, pos });
      i = end;
    } else if (/[0-9]/.test(c) || ((c === '-' || c === '+' || c === '.') && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^[+-]?(0[xX][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]+([eE][+-]?[0-9]+)?)/.exec(src.slice(i));
      const value = m === null ? NaN : Number(m[0].replace(/_/g, ''));
      if (m === null || Number.isNaN(value)) throw templateError(pos, `bad number syntax near ${JSON.stringify(src.slice(i, i + 10))}`);
      tokens.push({ kind: 'number', value, pos });
      i += m[0].length;
    } else if (IDENT_START.test(c)) {
      let j = i;
      while (j < src.length && IDENT.test(src[j])) j++;
      tokens.push({ kind: 'ident', value: src.slice(i, j), pos });
      i = j;
    } else if (src.startsWith(':=', i)) {
      tokens.push({ kind: 'punct', value: ':=', pos });
      i += 2;
    } else if (c === '(' || c === ')' || c === '|' || c === ',' || c === '=') {
      tokens.push({ kind: 'punct', value: c, pos });
      i++;
    } else {
      throw templateError(pos, `unexpected ${JSON.stringify(c)} in action`);
    }
    spaceBefore = false;
  }
}

/** `.a.b.c` starting at the dot: the names, and where it ends. A lone `.` is the empty path. */
function lexPath(src: string, start: number): { path: string[]; end: number } {
  const path: string[] = [];
  let i = start;
  while (src[i] === '.') {
    let j = i + 1;
    while (j < src.length && IDENT.test(src[j])) j++;
    if (j === i + 1) {
      if (path.length === 0) return { path, end: j };
      break;
    }
    path.push(src.slice(i + 1, j));
    i = j;
  }
  return { path, end: i };
}
