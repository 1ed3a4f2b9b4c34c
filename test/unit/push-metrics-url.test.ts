// Subscribe.metrics_url: what the control plane agrees to scrape for the dashboard.
import { checkMetricsHost, parseMetricsUrl, parseSubscribe, peerIp } from '../../control-plane/push/subscription';

describe('Subscribe.metrics_url', () => {
  it('reads the gRPC peer address in the forms grpc-js reports, and nothing from a unix socket', () => {
    expect(peerIp('10.0.0.7:41234')).toBe('10.0.0.7');
    expect(peerIp('ipv4:10.0.0.7:41234')).toBe('10.0.0.7');
    expect(peerIp('[fd00::7]:41234')).toBe('fd00::7');
    expect(peerIp('unknown')).toBeUndefined();
    expect(peerIp(undefined)).toBeUndefined();
  });

  it('keeps a URL on the address the client connects from (loopback counts as this machine)', () => {
    expect(checkMetricsHost(parseMetricsUrl('http://10.0.0.7:15020/metrics'), '10.0.0.7:5000')).toEqual({ metricsUrl: 'http://10.0.0.7:15020/metrics' });
    expect(checkMetricsHost(parseMetricsUrl('http://[fd00::7]:15020/metrics'), '[fd00::7]:5000')).toEqual({ metricsUrl: 'http://[fd00::7]:15020/metrics' });
    expect(checkMetricsHost(parseMetricsUrl('http://127.35.88.1:15020/metrics'), '127.0.0.1:5000')).toEqual({ metricsUrl: 'http://127.35.88.1:15020/metrics' });
    // The local unix socket: a client on this machine.
    expect(checkMetricsHost(parseMetricsUrl('http://198.18.2.13:15020/metrics'), 'unknown')).toEqual({ metricsUrl: 'http://198.18.2.13:15020/metrics' });
  });

  it('refuses another host: a client may not point the control plane elsewhere', () => {
    const r = checkMetricsHost(parseMetricsUrl('http://169.254.169.254/latest/meta-data'), '10.0.0.7:5000');
    expect(r.metricsUrl).toBeUndefined();
    expect(r.metricsUrlProblem).toMatch(/host 169\.254\.169\.254 is not the address this client connects from \(10\.0\.0\.7\); not scraped/);
    expect(checkMetricsHost(parseMetricsUrl('http://127.0.0.1:15020/metrics'), '10.0.0.7:5000').metricsUrl).toBeUndefined();
  });

  it('is applied when a Subscribe is parsed, and a refusal does not refuse the subscription', () => {
    const sub = parseSubscribe({ client: 'node', node: 'node1', types: [], clientId: 'agent', lastAcceptedVersion: '', metricsUrl: 'http://10.9.9.9:15020/metrics' }, '10.0.0.7:5000');
    expect(sub).toMatchObject({ kind: 'agent', node: 'node1' });
    expect(sub.metricsUrl).toBeUndefined();
    expect(sub.metricsUrlProblem).toContain('not scraped');
  });
});
