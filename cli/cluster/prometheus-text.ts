// The few numbers `ambit status` reads from a Prometheus text exposition (/metrics): enough of
// the format for prom-client's output — `name{labels} value` lines, comments skipped.

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    const list = out.get(m[1]) ?? [];
    list.push({ labels, value });
    out.set(m[1], list);
  }
  return out;
}

/** Sum over every series of `name` (undefined when the metric is absent). */
export function metricSum(metrics: Map<string, Sample[]>, name: string): number | undefined {
  const s = metrics.get(name);
  return s === undefined || s.length === 0 ? undefined : s.reduce((n, x) => n + x.value, 0);
}
