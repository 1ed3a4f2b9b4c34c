// The dashboard's Prometheus text parser, on hand-written edge cases and on what prom-client
// itself renders (label escapes, histograms).
import { Counter, Histogram, Registry } from 'prom-client';
import { parsePrometheusText, PrometheusTextError } from '../../common/telemetry/prometheus-text';

describe('parsePrometheusText', () => {
  it('reads samples, skips comments and blank lines, ignores timestamps', () => {
    const text = [
      '# HELP up Whether the target answers.',
      '# TYPE up gauge',
      'up 1',
      '',
      'http_requests_total{method="GET",code="200"} 1027 1395066363000',
      '  spaced_metric{a="1"}   2.5e3  ',
    ].join('\n');
    expect(parsePrometheusText(text)).toEqual([
      { name: 'up', labels: {}, value: 1 },
      { name: 'http_requests_total', labels: { method: 'GET', code: '200' }, value: 1027 },
      { name: 'spaced_metric', labels: { a: '1' }, value: 2500 },
    ]);
  });

  it('unescapes label values and reads +Inf, -Inf and NaN', () => {
    const text = [
      'm{path="C:\\\\dir\\"x\\"",note="line1\\nline2",brace="}{,="} +Inf',
      'm{le="+Inf"} -Inf',
      'm NaN',
      'm{trailing="comma",} 3',
    ].join('\n');
    const [a, b, c, d] = parsePrometheusText(text);
    expect(a.labels).toEqual({ path: 'C:\\dir"x"', note: 'line1\nline2', brace: '}{,=' });
    expect(a.value).toBe(Infinity);
    expect(b).toEqual({ name: 'm', labels: { le: '+Inf' }, value: -Infinity });
    expect(Number.isNaN(c.value)).toBe(true);
    expect(d).toEqual({ name: 'm', labels: { trailing: 'comma' }, value: 3 });
  });

  it('reads what prom-client renders, escapes and histogram buckets included', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'istio_requests_total', help: 'h', labelNames: ['source_workload', 'response_code'], registers: [registry] });
    const histogram = new Histogram({ name: 'istio_request_duration_milliseconds', help: 'h', labelNames: ['source_workload'], buckets: [1, 5, 10], registers: [registry] });
    counter.inc({ source_workload: 'we"ird\\name\nx', response_code: '503' }, 4);
    histogram.observe({ source_workload: 'a' }, 3);
    histogram.observe({ source_workload: 'a' }, 30);
    const samples = parsePrometheusText(await registry.metrics());
    expect(samples.find((s) => s.name === 'istio_requests_total')).toEqual({
      name: 'istio_requests_total',
      labels: { source_workload: 'we"ird\\name\nx', response_code: '503' },
      value: 4,
    });
    const buckets = samples.filter((s) => s.name === 'istio_request_duration_milliseconds_bucket').map((s) => [s.labels.le, s.value]);
    expect(buckets).toEqual([['1', 0], ['5', 1], ['10', 1], ['+Inf', 2]]);
    expect(samples.find((s) => s.name === 'istio_request_duration_milliseconds_sum')?.value).toBe(33);
  });

  it('keeps only wanted names when asked (the others are not even parsed)', () => {
    const text = 'keep{a="1"} 1\nskip{broken 2\nkeep_not 3\n';
    expect(parsePrometheusText(text, (n) => n === 'keep')).toEqual([{ name: 'keep', labels: { a: '1' }, value: 1 }]);
  });

  it('names the line of malformed input', () => {
    expect(() => parsePrometheusText('ok 1\nbad{a="1"} notanumber')).toThrow(new PrometheusTextError(2, 'bad value "notanumber" for bad'));
    expect(() => parsePrometheusText('x{a="open} 1')).toThrow(/line 1: unterminated label value/);
    expect(() => parsePrometheusText('x{a=1} 1')).toThrow(/line 1: bad label at column 3 of x/);
  });
});
