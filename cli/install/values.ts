/**
 * The values a chart is rendered with, built as Helm builds them: the chart's values.yaml, then
 * each --values file in order, then each --set / --set-string, later ones winning; maps merge key
 * by key, anything else is replaced, and a null removes the key (Helm's way to drop a default).
 */
import fs from 'node:fs';
import { InstallError, InstallErrorCodes } from './errors';
import { isDict, type Dict } from './template/values';
import { parseYaml } from './template/yaml-functions';

/** `override` over `base`, without changing either. */
export function mergeValues(base: Dict, override: Dict): Dict {
  const out: Dict = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === null) delete out[k];
    else if (isDict(v) && isDict(out[k])) out[k] = mergeValues(out[k] as Dict, v);
    else out[k] = v;
  }
  return out;
}

/** A values file: YAML whose top level is a map (an empty file is no values). */
export function readValuesFile(file: string): Dict {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InstallError(InstallErrorCodes.VALUES, `cannot read values file ${file}: ${(e as Error).message}`, { cause: e });
  }
  let v: unknown;
  try {
    v = parseYaml(text);
  } catch (e) {
    throw new InstallError(InstallErrorCodes.VALUES, `values file ${file} is not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  if (v === null || v === undefined) return {};
  if (!isDict(v)) throw new InstallError(InstallErrorCodes.VALUES, `values file ${file} must be a YAML map at the top level`);
  return v;
}

/**
 * One --set argument (Helm's strvals, the common part): `a.b=c`, several separated by commas,
 * list items `a[0]=x`, lists `a={x,y}`; `\` escapes `,` `.` `=` `[` `{`. With `typed`, true/false,
 * null and integers become bool, null and numbers (Helm's --set); otherwise strings (--set-string).
 */
export function parseSet(expr: string, typed: boolean): Dict {
  const out: Dict = {};
  for (const assignment of splitUnescaped(expr, ',', true)) {
    if (assignment === '') continue;
    const eq = indexUnescaped(assignment, '=');
    if (eq === -1) throw setError(expr, `"${assignment}" has no "="; use key=value`);
    const path = parseKeyPath(assignment.slice(0, eq), expr);
    const raw = assignment.slice(eq + 1);
    const value =
      raw.startsWith('{') && raw.endsWith('}')
        ? splitUnescaped(raw.slice(1, -1), ',', false).map((x) => typedValue(unescape(x), typed))
        : typedValue(unescape(raw), typed);
    setPath(out, path, value, expr);
  }
  return out;
}

type PathPart = string | number;

function parseKeyPath(key: string, expr: string): PathPart[] {
  const parts: PathPart[] = [];
  for (const seg of splitUnescaped(key, '.', false)) {
    const m = /^((?:\\.|[^[\\])*)((?:\[[0-9]+\])*)$/.exec(seg);
    if (m === null || m[1] === '') throw setError(expr, `"${key}" is not a key path; use a.b.c or a.b[0]`);
    parts.push(unescape(m[1]));
    for (const idx of m[2].matchAll(/\[([0-9]+)\]/g)) {
      const n = Number(idx[1]);
      if (n > 65536) throw setError(expr, `index ${n} is too large`);
      parts.push(n);
    }
  }
  return parts;
}

function setPath(root: Dict, path: PathPart[], value: unknown, expr: string): void {
  let cur: Dict | unknown[] = root;
  for (let i = 0; i < path.length; i++) {
    const part = path[i];
    const last = i === path.length - 1;
    const nextIsIndex = typeof path[i + 1] === 'number';
    if (typeof part === 'number') {
      if (!Array.isArray(cur)) throw setError(expr, `cannot index a map with [${part}]`);
      while (cur.length <= part) cur.push(null);
      if (last) cur[part] = value;
      else {
        if (!isContainer(cur[part], nextIsIndex)) cur[part] = nextIsIndex ? [] : {};
        cur = cur[part] as Dict | unknown[];
      }
    } else {
      if (Array.isArray(cur)) throw setError(expr, `cannot use key "${part}" on a list`);
      if (last) cur[part] = value;
      else {
        if (!isContainer(cur[part], nextIsIndex)) cur[part] = nextIsIndex ? [] : {};
        cur = cur[part] as Dict | unknown[];
      }
    }
  }
}

const isContainer = (v: unknown, list: boolean): boolean => (list ? Array.isArray(v) : isDict(v));

function typedValue(v: string, typed: boolean): unknown {
  if (!typed) return v;
  if (v === 'true' || v === 'false') return v === 'true';
  if (v.toLowerCase() === 'null') return null;
  // Helm keeps "0123" a string and makes other base-10 integers int64.
  if (/^-?(0|[1-9][0-9]*)$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  return v;
}

function splitUnescaped(s: string, sep: string, respectBraces: boolean): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (respectBraces && c === '{') depth++;
    if (respectBraces && c === '}') depth = Math.max(0, depth - 1);
    if (c === sep && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function indexUnescaped(s: string, ch: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === ch) return i;
  }
  return -1;
}

const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');

const setError = (expr: string, what: string): InstallError => new InstallError(InstallErrorCodes.VALUES, `--set ${expr}: ${what}`);
