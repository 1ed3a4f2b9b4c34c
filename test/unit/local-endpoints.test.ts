import { runtimeProblems, formatProblem } from '../../cli/local/config-check';
import { resolveProbePort } from '../../cli/local/probe-check';
import { parseProgress } from '../../cli/local/progress-channel';
import { endpointsOf, selects, targetPortOn } from '../../cli/local/service-endpoints';
import { isAmbient } from '../../cli/local/status-snapshot';
import type { Pod, Service } from '../../control-plane/kube/objects';

const pod = (name: string, labels: Record<string, string>, ns = 'demo'): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels },
  spec: { containers: [{ name: 'c', command: ['node'], ports: [{ name: 'http', containerPort: 9080 }] }] },
});
const svc: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'reviews', namespace: 'demo' },
  spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { port: 81 }] },
};

describe('local runtime service endpoints', () => {
  it('selects by every selector label; no selector selects nothing', () => {
    expect(selects({ app: 'a' }, { app: 'a', version: 'v1' })).toBe(true);
    expect(selects({ app: 'a', version: 'v2' }, { app: 'a', version: 'v1' })).toBe(false);
    expect(selects(undefined, { app: 'a' })).toBe(false);
    expect(selects({}, { app: 'a' })).toBe(false);
  });

  it('maps named and numeric target ports', () => {
    const p = pod('r', { app: 'reviews' });
    expect(targetPortOn(p, { port: 80, targetPort: 'http' })).toBe(9080);
    expect(targetPortOn(p, { port: 80, targetPort: '8080' })).toBe(8080);
    expect(targetPortOn(p, { port: 81 })).toBe(81);
    expect(targetPortOn(p, { port: 80, targetPort: 'grpc' })).toBeUndefined();
  });

  it('lists matching pods of the namespace with their readiness', () => {
    const eps = endpointsOf(svc, [
      { pod: pod('reviews-v2', { app: 'reviews' }), ip: '198.18.2.11', ready: false },
      { pod: pod('reviews-v1', { app: 'reviews' }), ip: '198.18.1.12', ready: true },
      { pod: pod('ratings', { app: 'ratings' }), ip: '198.18.2.10', ready: true },
      { pod: pod('other-ns', { app: 'reviews' }, 'prod'), ip: '198.18.1.20', ready: true },
      { pod: pod('no-ip', { app: 'reviews' }), ip: undefined, ready: false },
    ]);
    expect(eps).toEqual([
      { pod: 'reviews-v1', ip: '198.18.1.12', ports: [9080, 81], ready: true },
      { pod: 'reviews-v2', ip: '198.18.2.11', ports: [9080, 81], ready: false },
    ]);
  });
});

describe('local runtime helpers', () => {
  it('resolves probe ports by number, numeric string or container port name', () => {
    const ports = [{ name: 'http', containerPort: 9080 }];
    expect(resolveProbePort(8080, ports)).toBe(8080);
    expect(resolveProbePort('8081', ports)).toBe(8081);
    expect(resolveProbePort('http', ports)).toBe(9080);
    expect(resolveProbePort('admin', ports)).toBeUndefined();
  });

  it('decides ambient membership from the pod label first, then the namespace', () => {
    expect(isAmbient(pod('a', {}), { 'istio.io/dataplane-mode': 'ambient' })).toBe(true);
    expect(isAmbient(pod('a', { 'istio.io/dataplane-mode': 'none' }), { 'istio.io/dataplane-mode': 'ambient' })).toBe(false);
    expect(isAmbient(pod('a', { 'istio.io/dataplane-mode': 'ambient' }), {})).toBe(true);
    expect(isAmbient(pod('a', {}), {})).toBe(false);
  });

  it('refuses containers without a command, naming the field', () => {
    const p = pod('nocmd', {});
    p.spec!.containers.push({ name: 'sidecar', image: 'envoy' });
    const [problem, ...rest] = runtimeProblems(p, 'yaml:/x');
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ severity: 'error', kind: 'Pod', namespace: 'demo', name: 'nocmd', field: '/spec/containers/1/command' });
    expect(formatProblem({ ...problem, file: '/x/pod.yaml', line: 7 })).toBe(
      `error: /x/pod.yaml:7 Pod demo/nocmd /spec/containers/1/command: ${problem.message}`,
    );
  });

  it('reads progress messages split across chunks and skips other lines', () => {
    const carry = { rest: '' };
    expect(parseProgress('{"type":"progress","line":"node node1"}\n{"type":"u', carry)).toEqual([{ type: 'progress', line: 'node node1' }]);
    expect(parseProgress('p"}\nnot json\n', carry)).toEqual([{ type: 'up' }]);
  });
});
