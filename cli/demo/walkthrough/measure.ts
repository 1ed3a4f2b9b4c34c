// Small statistics over the walkthrough's measured outcomes, and how they are printed.
import type { Outcome } from './pod-requests';

/** The p-th percentile (0-100) of `values`, nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** How many outcomes per value of `key` (undefined counted as "-"), most frequent first. */
export function tally(outcomes: readonly Outcome[], key: (o: Outcome) => string | number | boolean | undefined): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const k = String(key(o) ?? '-');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

export const pct = (n: number, of: number): string => `${of === 0 ? 0 : ((100 * n) / of).toFixed(1)}%`;

/** "200 ×95, 503 ×5" */
export const formatTally = (t: Array<[string, number]>): string => t.map(([k, n]) => `${k} ×${n}`).join(', ');

/** "p50 3.1 ms, p99 12.4 ms" over the outcomes that got an answer. */
export function latency(outcomes: readonly Outcome[]): string {
  const ms = outcomes.filter((o) => o.status !== undefined && o.ms !== undefined).map((o) => o.ms!);
  return `p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms`;
}

/** "5 ratings, 4 failed (ECONNRESET ×4)": what went wrong, for a step's failure message. */
export function failures(outcomes: readonly Outcome[], expected: number): string {
  const bad = outcomes.filter((o) => o.status !== expected);
  return bad.length === 0 ? 'none' : formatTally(tally(bad, (o) => o.status ?? o.error));
}
