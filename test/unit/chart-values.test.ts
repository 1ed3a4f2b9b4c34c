// Values as Helm builds them (defaults, --values files, --set) and values.schema.json: unknown keys
// are refused everywhere with a message naming the key, bad values name their path.
import { loadChart } from '../../cli/install/chart';
import { InstallError } from '../../cli/install/errors';
import { renderChart } from '../../cli/install/render-chart';
import { mergeValues, parseSet } from '../../cli/install/values';
import { CHART_DIR } from './chart-support';

const chart = loadChart(CHART_DIR);
const renderWith = (override: Record<string, unknown>) =>
  renderChart(chart, { values: mergeValues(chart.values, override), releaseName: 'ambit', namespace: 'ambit-system' });
const rejection = (override: Record<string, unknown>): string => {
  try {
    renderWith(override);
  } catch (e) {
    expect(e).toBeInstanceOf(InstallError);
    expect((e as InstallError).code).toBe('AMBIT_ERR_INSTALL_VALUES');
    return (e as Error).message;
  }
  throw new Error('values were accepted');
};

describe('values.schema.json', () => {
  test('forbids unknown keys at every level of the schema', () => {
    const schema = chart.schema as Record<string, unknown>;
    const open: string[] = [];
    const walk = (s: any, at: string): void => {
      if (s === null || typeof s !== 'object') return;
      if (s.type === 'object' && s.properties && s.additionalProperties !== false) open.push(at);
      for (const [k, v] of Object.entries(s)) walk(v, `${at}/${k}`);
    };
    walk(schema, '#');
    expect(open).toEqual([]);
  });

  test('an unknown top-level key is refused, naming it', () => {
    expect(rejection({ agnet: {} })).toContain('agnet: unknown key "agnet"; allowed here: image, imagePullSecrets, mesh, controlPlane, agent, cni');
  });

  test('an unknown nested key is refused with its full path', () => {
    const msg = rejection({ agent: { capabilites: ['SYS_ADMIN'] } });
    expect(msg).toContain("values do not meet chart ambit's values.schema.json");
    expect(msg).toContain('agent.capabilites: unknown key "capabilites"');
    expect(rejection({ controlPlane: { resources: { requests: { gpu: 1 } } } })).toContain('controlPlane.resources.requests.gpu: unknown key "gpu"');
    expect(rejection({ waypoints: [{ name: 'w', namespace: 'n', class: 'x' }] })).toContain('waypoints[0].class: unknown key "class"');
  });

  test('bad values name their path and what is allowed', () => {
    expect(rejection({ agent: { terminationGracePeriodSeconds: 3 } })).toContain('agent.terminationGracePeriodSeconds: must be >= 10');
    expect(rejection({ mesh: { logLevel: 'verbose' } })).toContain('mesh.logLevel: must be equal to one of the allowed values: "fatal", "error"');
    expect(rejection({ agent: { cgroupRoot: '/var/lib/kubepods' } })).toContain('agent.cgroupRoot: must match pattern');
    expect(rejection({ agent: { pinDir: '/tmp/pins' } })).toContain('agent.pinDir: must match pattern');
  });

  test('the default values and a known override pass', () => {
    expect(() => renderWith({})).not.toThrow();
    expect(() => renderWith({ agent: { dnsCapture: false }, serviceMonitor: { enabled: true } })).not.toThrow();
  });

  test('a bad release name or namespace is refused before rendering', () => {
    expect(() => renderChart(chart, { values: chart.values, releaseName: 'Ambit', namespace: 'ambit-system' })).toThrow('release name "Ambit" is invalid');
    expect(() => renderChart(chart, { values: chart.values, releaseName: 'ambit', namespace: 'ambit_system' })).toThrow('namespace "ambit_system" is not a DNS-1123 label');
  });
});

describe('merging and --set', () => {
  test('maps merge key by key, other values are replaced, null removes a default', () => {
    expect(mergeValues({ a: { b: 1, c: 2 }, l: [1, 2], d: 'x' }, { a: { c: 3 }, l: [9], d: null })).toEqual({ a: { b: 1, c: 3 }, l: [9] });
  });

  test('--set parses paths, several assignments, list indexes, lists, escapes and types', () => {
    expect(parseSet('agent.dnsCapture=false,agent.terminationGracePeriodSeconds=60', true)).toEqual({ agent: { dnsCapture: false, terminationGracePeriodSeconds: 60 } });
    expect(parseSet('waypoints[1].name=w,waypoints[1].namespace=bookinfo', true)).toEqual({ waypoints: [null, { name: 'w', namespace: 'bookinfo' }] });
    expect(parseSet('agent.probeSources={169.254.7.127,10.0.0.1}', true)).toEqual({ agent: { probeSources: ['169.254.7.127', '10.0.0.1'] } });
    expect(parseSet('serviceMonitor.labels.app\\.kubernetes\\.io/name=prom', true)).toEqual({ serviceMonitor: { labels: { 'app.kubernetes.io/name': 'prom' } } });
    expect(parseSet('a=0123,b=null,c=1.5,d=a\\,b', true)).toEqual({ a: '0123', b: null, c: '1.5', d: 'a,b' });
    expect(parseSet('image.tag=1', false)).toEqual({ image: { tag: '1' } });
  });

  test('a malformed --set says what is wrong', () => {
    expect(() => parseSet('agent.dnsCapture', true)).toThrow('--set agent.dnsCapture: "agent.dnsCapture" has no "="; use key=value');
    expect(() => parseSet('.a=1', true)).toThrow('is not a key path');
  });
});
