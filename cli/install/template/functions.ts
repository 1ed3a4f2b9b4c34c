/**
 * The template functions the renderer knows: Go's builtins and the Sprig / Helm ones charts use
 * most, with Helm's argument order (the piped value comes last). A function not listed here is an
 * error naming it, never a silent empty string. `and` / `or` short-circuit and live in evaluate.ts.
 */
import { empty, formatNumber, isDict, printScalar, stringValue, truth, typeName, type Dict } from './values';
import { toJson, toYaml } from './yaml-functions';

export interface FunctionContext {
  /** Renders a defined template with `data` as dot (include). */
  include(name: string, data: unknown): string;
}

type Fn = (args: unknown[], ctx: FunctionContext) => unknown;

interface FunctionSpec {
  readonly min: number;
  /** Infinity for variadic. */
  readonly max: number;
  readonly fn: Fn;
}

/** A function failed (bad argument, required value missing, fail); the evaluator adds file:line. */
export class FunctionError extends Error {}

const str = (v: unknown, fn: string, what = 'argument'): string => {
  if (typeof v === 'string') return v;
  const s = printScalar(v);
  if (s === undefined) throw new FunctionError(`${fn}: ${what} must be a string, got ${typeName(v)}`);
  return s;
};

const int = (v: unknown, fn: string): number => {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return Number(v);
  throw new FunctionError(`${fn}: expected an integer, got ${typeName(v)} ${stringValue(v)}`);
};

/** Helm's indent: every line, empty ones included, gets the pad. */
const indent = (n: number, s: string): string => {
  const pad = ' '.repeat(n);
  return pad + s.replace(/\n/g, `\n${pad}`);
};

/** Go's %q of a string. */
const goQuote = (s: string): string => JSON.stringify(s).replace(/\\u00([0-7][0-9a-f])/g, '\\x$1');

/** fmt.Sprintf with the verbs charts use: %s %d %v %q %t %%. */
function sprintf(format: string, args: unknown[]): string {
  let k = 0;
  const next = (verb: string): unknown => {
    if (k >= args.length) throw new FunctionError(`printf: %${verb} has no argument`);
    return args[k++];
  };
  const out = format.replace(/%([%sdvqt])|%(.)/g, (_m, verb: string | undefined, other: string | undefined) => {
    if (verb === undefined) throw new FunctionError(`printf: verb %${other} is not supported (use %s, %d, %v, %q, %t)`);
    if (verb === '%') return '%';
    const v = next(verb);
    if (verb === 'd') {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new FunctionError(`printf: %d needs an integer, got ${typeName(v)}`);
      return formatNumber(v);
    }
    if (verb === 'q') return goQuote(stringValue(v));
    if (verb === 't' && typeof v !== 'boolean') throw new FunctionError(`printf: %t needs a bool, got ${typeName(v)}`);
    return stringValue(v);
  });
  if (k < args.length) throw new FunctionError(`printf: ${args.length - k} argument(s) left over for "${format}"`);
  return out;
}

/** Go's eq/ne: basic values only (numbers, strings, bools, nil). */
const basic = (v: unknown, fn: string): unknown => {
  if (v === undefined) return null;
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return v;
  throw new FunctionError(`${fn}: cannot compare ${typeName(v)} values`);
};

const ordered = (a: unknown, b: unknown, fn: string): [number | string, number | string] => {
  if (typeof a === 'number' && typeof b === 'number') return [a, b];
  if (typeof a === 'string' && typeof b === 'string') return [a, b];
  throw new FunctionError(`${fn}: cannot compare ${typeName(a)} with ${typeName(b)}`);
};

export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  // ---- Go text/template builtins
  ['not', { min: 1, max: 1, fn: ([v]) => !truth(v) }],
  ['eq', { min: 2, max: Infinity, fn: ([a, ...bs]) => bs.some((b) => basic(a, 'eq') === basic(b, 'eq')) }],
  ['ne', { min: 2, max: 2, fn: ([a, b]) => basic(a, 'ne') !== basic(b, 'ne') }],
  ['lt', { min: 2, max: 2, fn: ([a, b]) => { const [x, y] = ordered(a, b, 'lt'); return x < y; } }],
  ['le', { min: 2, max: 2, fn: ([a, b]) => { const [x, y] = ordered(a, b, 'le'); return x <= y; } }],
  ['gt', { min: 2, max: 2, fn: ([a, b]) => { const [x, y] = ordered(a, b, 'gt'); return x > y; } }],
  ['ge', { min: 2, max: 2, fn: ([a, b]) => { const [x, y] = ordered(a, b, 'ge'); return x >= y; } }],
  ['len', {
    min: 1, max: 1, fn: ([v]) => {
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      if (isDict(v)) return Object.keys(v).length;
      throw new FunctionError(`len of ${typeName(v)}`);
    },
  }],
  ['print', { min: 0, max: Infinity, fn: (args) => args.map(stringValue).join('') }],
  ['printf', { min: 1, max: Infinity, fn: ([f, ...rest]) => sprintf(str(f, 'printf', 'format'), rest) }],
  ['index', {
    min: 2, max: 2, fn: ([c, k]) => {
      if (Array.isArray(c)) {
        const i = int(k, 'index');
        if (i < 0 || i >= c.length) throw new FunctionError(`index out of range: ${i}`);
        return c[i];
      }
      if (isDict(c)) return Object.prototype.hasOwnProperty.call(c, str(k, 'index')) ? c[str(k, 'index')] : null;
      throw new FunctionError(`can't index item of type ${typeName(c)}`);
    },
  }],
  // ---- Helm
  ['include', { min: 2, max: 2, fn: ([name, data], ctx) => ctx.include(str(name, 'include', 'template name'), data) }],
  ['toYaml', { min: 1, max: 1, fn: ([v]) => toYaml(v) }],
  ['toJson', { min: 1, max: 1, fn: ([v]) => toJson(v) }],
  ['required', {
    min: 2, max: 2, fn: ([msg, v]) => {
      if (v === null || v === undefined || v === '') throw new FunctionError(str(msg, 'required', 'message'));
      return v;
    },
  }],
  ['fail', { min: 1, max: 1, fn: ([msg]) => { throw new FunctionError(str(msg, 'fail', 'message')); } }],
  // ---- Sprig
  ['default', { min: 1, max: 2, fn: (args) => (args.length < 2 || empty(args[1]) ? args[0] : args[1]) }],
  ['empty', { min: 1, max: 1, fn: ([v]) => empty(v) }],
  ['ternary', { min: 3, max: 3, fn: ([a, b, c]) => (truth(c) ? a : b) }],
  ['quote', { min: 0, max: Infinity, fn: (args) => args.filter((a) => a !== null && a !== undefined).map((a) => goQuote(stringValue(a))).join(' ') }],
  ['squote', { min: 0, max: Infinity, fn: (args) => args.filter((a) => a !== null && a !== undefined).map((a) => `'${stringValue(a)}'`).join(' ') }],
  ['indent', { min: 2, max: 2, fn: ([n, s]) => indent(int(n, 'indent'), str(s, 'indent')) }],
  ['nindent', { min: 2, max: 2, fn: ([n, s]) => `\n${indent(int(n, 'nindent'), str(s, 'nindent'))}` }],
  ['trunc', {
    min: 2, max: 2, fn: ([n, s]) => {
      const k = int(n, 'trunc');
      const v = str(s, 'trunc');
      return k >= 0 ? v.slice(0, k) : v.slice(Math.max(0, v.length + k));
    },
  }],
  ['trimSuffix', { min: 2, max: 2, fn: ([suf, s]) => { const v = str(s, 'trimSuffix'); const x = str(suf, 'trimSuffix'); return x && v.endsWith(x) ? v.slice(0, -x.length) : v; } }],
  ['trimPrefix', { min: 2, max: 2, fn: ([pre, s]) => { const v = str(s, 'trimPrefix'); const x = str(pre, 'trimPrefix'); return v.startsWith(x) ? v.slice(x.length) : v; } }],
  ['trim', { min: 1, max: 1, fn: ([s]) => str(s, 'trim').trim() }],
  ['lower', { min: 1, max: 1, fn: ([s]) => str(s, 'lower').toLowerCase() }],
  ['upper', { min: 1, max: 1, fn: ([s]) => str(s, 'upper').toUpperCase() }],
  ['replace', { min: 3, max: 3, fn: ([a, b, s]) => str(s, 'replace').split(str(a, 'replace')).join(str(b, 'replace')) }],
  ['contains', { min: 2, max: 2, fn: ([sub, s]) => str(s, 'contains').includes(str(sub, 'contains')) }],
  ['hasPrefix', { min: 2, max: 2, fn: ([p, s]) => str(s, 'hasPrefix').startsWith(str(p, 'hasPrefix')) }],
  ['hasSuffix', { min: 2, max: 2, fn: ([p, s]) => str(s, 'hasSuffix').endsWith(str(p, 'hasSuffix')) }],
  ['add', { min: 1, max: Infinity, fn: (args) => args.reduce<number>((a, b) => a + int(b, 'add'), 0) }],
  ['sub', { min: 2, max: 2, fn: ([a, b]) => int(a, 'sub') - int(b, 'sub') }],
  ['mul', { min: 1, max: Infinity, fn: (args) => args.reduce<number>((a, b) => a * int(b, 'mul'), 1) }],
  ['toString', { min: 1, max: 1, fn: ([v]) => stringValue(v) }],
  ['b64enc', { min: 1, max: 1, fn: ([s]) => Buffer.from(str(s, 'b64enc'), 'utf8').toString('base64') }],
  ['join', {
    min: 2, max: 2, fn: ([sep, l]) => {
      if (!Array.isArray(l)) throw new FunctionError(`join: expected a list, got ${typeName(l)}`);
      return l.map(stringValue).join(str(sep, 'join'));
    },
  }],
  ['list', { min: 0, max: Infinity, fn: (args) => [...args] }],
  ['dict', {
    min: 0, max: Infinity, fn: (args) => {
      if (args.length % 2 !== 0) throw new FunctionError('dict: needs key/value pairs');
      const d: Dict = {};
      for (let i = 0; i < args.length; i += 2) d[str(args[i], 'dict', 'key')] = args[i + 1];
      return d;
    },
  }],
  ['hasKey', {
    min: 2, max: 2, fn: ([d, k]) => {
      if (!isDict(d)) throw new FunctionError(`hasKey: expected a map, got ${typeName(d)}`);
      return Object.prototype.hasOwnProperty.call(d, str(k, 'hasKey'));
    },
  }],
]);

/** Names handled by the evaluator itself (lazy arguments). */
export const SPECIAL_FORMS = new Set(['and', 'or']);

export const supportedFunctionNames = (): string[] => [...FUNCTIONS.keys(), ...SPECIAL_FORMS].sort();
