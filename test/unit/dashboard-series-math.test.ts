// Rates and quantiles the dashboard computes between two scrapes, against Prometheus' own
// semantics (rate() with counter resets, histogram_quantile()).
import type { Sample } from '../../common/telemetry/prometheus-text';
import { bucketBound, counterIncrease, histogramQuantile, increases, seriesKey } from '../../control-plane/dashboard/series-math';

const buckets = (entries: Array<[string, number]>): Map<number, number> => new Map(entries.map(([le, n]) => [bucketBound(le)!, n]));

describe('counterIncrease', () => {
  it('is the difference while the counter grows', () => {
    expect(counterIncrease(10, 25)).toBe(15);
    expect(counterIncrease(7, 7)).toBe(0);
  });
  it('counts all of the new value after a reset (the process restarted)', () => {
    expect(counterIncrease(100, 4)).toBe(4);
  });
  it('counts a series that appeared between the scrapes from 0', () => {
    expect(counterIncrease(undefined, 3)).toBe(3);
  });
});

describe('increases', () => {
  it('pairs series by name and labels, whatever the label order', () => {
    const first: Sample[] = [{ name: 'c', labels: { a: '1', b: '2' }, value: 5 }, { name: 'other', labels: {}, value: 1 }];
    const last: Sample[] = [
      { name: 'c', labels: { b: '2', a: '1' }, value: 8 },
      { name: 'c', labels: { a: 'new' }, value: 2 },
      { name: 'other', labels: {}, value: 9 },
    ];
    const got = increases({ first, last, seconds: 2 }, new Set(['c']));
    expect(got.map((g) => [g.sample.labels.a, g.increase])).toEqual([['1', 3], ['new', 2]]);
    expect(seriesKey(first[0])).toBe(seriesKey(last[0]));
  });
});

describe('histogramQuantile', () => {
  it('interpolates inside the bucket holding the rank, as Prometheus does', () => {
    // 100 observations: 50 <= 10, 90 <= 50, 100 <= 100. p99: rank 99 lies in (50, 100], 9 of 10 in.
    const b = buckets([['10', 50], ['50', 90], ['100', 100], ['+Inf', 100]]);
    expect(histogramQuantile(0.99, b)).toBeCloseTo(95, 10);
    expect(histogramQuantile(0.5, b)).toBeCloseTo(10, 10);
    // rank 25 lies in the first bucket: interpolated from 0.
    expect(histogramQuantile(0.25, b)).toBeCloseTo(5, 10);
  });

  it('answers the highest finite bound when the rank falls in +Inf', () => {
    const b = buckets([['10', 1], ['50', 2], ['+Inf', 10]]);
    expect(histogramQuantile(0.99, b)).toBe(50);
  });

  it('is undefined without observations', () => {
    expect(histogramQuantile(0.99, buckets([['10', 0], ['+Inf', 0]]))).toBeUndefined();
    expect(histogramQuantile(0.99, new Map())).toBeUndefined();
  });

  it('reads le labels', () => {
    expect(bucketBound('+Inf')).toBe(Infinity);
    expect(bucketBound('2.5')).toBe(2.5);
    expect(bucketBound('x')).toBeUndefined();
    expect(bucketBound(undefined)).toBeUndefined();
  });
});
