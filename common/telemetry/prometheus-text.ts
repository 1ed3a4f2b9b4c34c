/**
 * A parser for the Prometheus text exposition format 0.0.4 (what prom-client serves), shared by the
 * dashboard's scraper and `ambit status`: comments
 * (# HELP / # TYPE) are skipped, each sample line becomes {name, labels, value}. Label values may
 * hold escaped `\\`, `\"` and `\n`; values may be +Inf, -Inf or NaN; a trailing timestamp is
 * ignored. Histograms need nothing special: their _bucket / _sum / _count lines are samples.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export class PrometheusTextError extends Error {
  constructor(line: number, message: string) {
    super(`metrics text line ${line}: ${message}`);
    this.name = 'PrometheusTextError';
  }
}

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const n = Number(text);
  return text === '' || Number.isNaN(n) ? Number.NaN : n;
}

/** Reads one label value starting after its opening quote; returns the value and the index after the closing quote. */
function readQuoted(line: string, at: number, lineNo: number): [string, number] {
  let out = '';
  for (let i = at; i < line.length; i++) {
    const c = line[i];
    if (c === '"') return [out, i + 1];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = line[++i];
    out += next === 'n' ? '\n' : next === '\\' || next === '"' ? next : `\\${next ?? ''}`;
  }
  throw new PrometheusTextError(lineNo, 'unterminated label value');
}

function parseLine(line: string, lineNo: number): Sample {
  NAME.lastIndex = 0;
  const name = NAME.exec(line)?.[0];
  if (name === undefined) throw new PrometheusTextError(lineNo, `no metric name in "${line.slice(0, 80)}"`);
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') break;
      LABEL_NAME.lastIndex = i;
      const label = LABEL_NAME.exec(line)?.[0];
      if (label === undefined || line[i + label.length] !== '=' || line[i + label.length + 1] !== '"') {
        throw new PrometheusTextError(lineNo, `bad label at column ${i + 1} of ${name}`);
      }
      const [value, after] = readQuoted(line, i + label.length + 2, lineNo);
      labels[label] = value;
      i = after;
    }
    i++;
  }
  const rest = line.slice(i).trim().split(/\s+/);
  const value = parseValue(rest[0] ?? '');
  if (Number.isNaN(value) && rest[0] !== 'NaN') throw new PrometheusTextError(lineNo, `bad value "${rest[0] ?? ''}" for ${name}`);
  return { name, labels, value };
}

/**
 * The samples of `text`. `wanted` (by metric name, _bucket/_sum/_count included) skips the rest
 * before their labels are parsed: the dashboard reads a few families out of hundreds of series.
 */
export function parsePrometheusText(text: string, wanted?: (name: string) => boolean): Sample[] {
  const out: Sample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (wanted !== undefined) {
      NAME.lastIndex = 0;
      const name = NAME.exec(line)?.[0];
      if (name !== undefined && !wanted(name)) continue;
    }
    out.push(parseLine(line, n + 1));
  }
  return out;
}

/** Sum over every series of `name` (undefined when the metric is absent). */
export function metricSum(samples: readonly Sample[], name: string): number | undefined {
  let sum: number | undefined;
  for (const s of samples) if (s.name === name) sum = (sum ?? 0) + s.value;
  return sum;
}
