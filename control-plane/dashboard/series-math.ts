/**
 * Prometheus' arithmetic over two scrapes of one target: counter increases (with resets) and
 * histogram_quantile over bucket increases. Pure.
 */
import type { Sample } from '../../common/telemetry/prometheus-text';

/** Two scrapes of one target and the seconds between them. */
export interface ScrapeWindow {
  readonly first: readonly Sample[];
  readonly last: readonly Sample[];
  readonly seconds: number;
}

/** A stable key of one series: its name and its labels, sorted. */
export function seriesKey(s: Sample): string {
  const labels = Object.keys(s.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(s.labels[k])}`)
    .join(',');
  return `${s.name}{${labels}}`;
}

/**
 * How much a counter grew from `before` to `after`. A smaller `after` is a reset (the process
 * restarted): the counter started again from 0, so all of `after` is increase, as rate() does.
 * A series absent before started at 0 (prom-client creates series on their first increment).
 */
export function counterIncrease(before: number | undefined, after: number): number {
  if (before === undefined || after < before) return after;
  return after - before;
}

/** Each series of `names` in the window's last scrape with its increase since the first. */
export function increases(window: ScrapeWindow, names: ReadonlySet<string>): Array<{ sample: Sample; increase: number }> {
  const before = new Map<string, number>();
  for (const s of window.first) if (names.has(s.name)) before.set(seriesKey(s), s.value);
  const out: Array<{ sample: Sample; increase: number }> = [];
  for (const s of window.last) {
    if (!names.has(s.name)) continue;
    out.push({ sample: s, increase: counterIncrease(before.get(seriesKey(s)), s.value) });
  }
  return out;
}

/**
 * histogram_quantile(q, ...) over cumulative bucket counts by upper bound `le` (Infinity for
 * +Inf): the bucket holding rank q·total, linearly interpolated inside it (from 0 for the first
 * bucket); a rank in the +Inf bucket answers the highest finite bound. Undefined without
 * observations.
 */
export function histogramQuantile(q: number, buckets: ReadonlyMap<number, number>): number | undefined {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  if (sorted.length === 0) return undefined;
  const total = sorted[sorted.length - 1][0] === Infinity ? sorted[sorted.length - 1][1] : Math.max(...sorted.map((b) => b[1]));
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      if (count === lowerCount) return le;
      return lowerBound + ((le - lowerBound) * (rank - lowerCount)) / (count - lowerCount);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

/** The `le` label as a number ("+Inf" -> Infinity); undefined when missing or not a number. */
export function bucketBound(le: string | undefined): number | undefined {
  if (le === undefined) return undefined;
  if (le === '+Inf') return Infinity;
  const n = Number(le);
  return Number.isNaN(n) ? undefined : n;
}
