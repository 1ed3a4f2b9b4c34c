// The CLI's Kubernetes target (`--kubeconfig`) against the test API server
// (test/support/kube-api-server): real HTTP through @kubernetes/client-node. What the server stores
// afterwards is the proof; the request log shows how it got there (a merge patch for labels).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError } from '../../cli/cluster/errors';
import { labelNamespace } from '../../cli/label-command';
import { applyWaypoint, deleteWaypoint, listWaypoints } from '../../cli/waypoint/waypoint-commands';
import { KubeApiServer } from '../support/kube-api-server/server';

jest.setTimeout(30_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

async function thrown(p: Promise<unknown>): Promise<CliError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('expected a CliError');
}

describe('ambit label / waypoint on Kubernetes (--kubeconfig)', () => {
  let api: KubeApiServer;
  let tmp: string;
  let target: { 'state-dir': string; kubeconfig: string };
  let printed: string[];

  beforeAll(async () => {
    api = await KubeApiServer.start();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-cli-kube-'));
    target = { 'state-dir': path.join(tmp, 'no-local-runtime'), kubeconfig: api.writeKubeconfig(tmp) };
    api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'retail' } } });
    api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.20', selector: { app: 'web' }, ports: [{ port: 80 }] } });
    api.apply({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'ingress', namespace: 'shop' }, spec: { gatewayClassName: 'nginx', listeners: [] } });
  });

  beforeEach(() => {
    printed = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await api?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const nsLabels = (): Record<string, string> => api.get('Namespace', undefined, 'shop')!.metadata.labels;

  it('`label ns` merge-patches the label in and `--off` out, leaving the others', async () => {
    expect(await labelNamespace({ ...target, name: 'shop', off: false, timeout: 5 })).toBe(0);
    // (kubernetes.io/metadata.name is the API server's own.)
    expect(nsLabels()).toEqual({ team: 'retail', 'istio.io/dataplane-mode': 'ambient', 'kubernetes.io/metadata.name': 'shop' });
    const patch = api.requests.find((r) => r.verb === 'patch' && r.resource === 'namespaces');
    expect(patch).toMatchObject({ name: 'shop', status: 200 });
    expect(printed.join('')).toMatch(/namespace shop: istio\.io\/dataplane-mode=ambient \(patched namespace shop\) on Kubernetes context test \(http:\/\/127\.0\.0\.1:\d+\)/);

    printed = [];
    await labelNamespace({ ...target, name: 'shop', off: true, timeout: 5 });
    expect(nsLabels()).toEqual({ team: 'retail', 'kubernetes.io/metadata.name': 'shop' });
    expect(printed.join('')).toContain('pods already running stay in the mesh until they are restarted');
  });

  it('regression: `label ns` on Kubernetes says running pods need a restart (nothing enrolls them in place there)', async () => {
    await labelNamespace({ ...target, name: 'shop', off: false, timeout: 5 });
    const text = printed.join('');
    expect(text).not.toContain('in place');
    expect(text).toContain('pods already running stay out of the mesh until they are restarted');
    expect(text).toContain('kubectl rollout restart deployment -n shop');
    await labelNamespace({ ...target, name: 'shop', off: true, timeout: 5 });
  });

  it('`label ns` of a namespace that does not exist names the ones that do', async () => {
    const e = await thrown(labelNamespace({ ...target, name: 'nope', off: false, timeout: 5 }));
    expect(e.code).toBe('AMBIT_ERR_CLI_UNKNOWN_NAMESPACE');
    expect(e.message).toMatch(/namespace nope does not exist .*\(namespaces: shop\)/);
  });

  it('regression: `waypoint apply --enroll-namespace` labels the namespace only once the Gateway is Programmed and a waypoint pod is ready; a second apply is refused', async () => {
    const args = { ...target, namespace: 'shop', name: 'waypoint', for: 'all' as const, 'enroll-namespace': true, timeout: 20 };
    const applying = applyWaypoint(args);
    let settled = false;
    void applying.then(
      () => (settled = true),
      () => (settled = true),
    );
    await until('the Gateway exists', () => api.get('Gateway', 'shop', 'waypoint') !== undefined);
    // No waypoint controller runs here: the test plays its part, step by step.
    await sleep(1_500);
    expect(settled).toBe(false);
    expect(nsLabels()['istio.io/use-waypoint']).toBeUndefined();
    const programmed = (status: 'True' | 'False', reason: string, message: string): void =>
      void api.modify('Gateway', 'shop', 'waypoint', (o) => {
        o.status = { conditions: [{ type: 'Programmed', status, reason, message, observedGeneration: 1, lastTransitionTime: '2025-01-01T00:00:00Z' }] };
      });
    programmed('False', 'Pending', 'the waypoint Service has no address yet');
    api.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'waypoint-abc', namespace: 'shop', labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
      spec: { containers: [{ name: 'waypoint', image: 'ambit' }] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    await sleep(1_500);
    expect(settled).toBe(false);
    expect(nsLabels()['istio.io/use-waypoint']).toBeUndefined();
    programmed('True', 'Programmed', 'the waypoint is deployed');
    expect(await applying).toBe(0);
    const text = printed.join('');
    expect(text).toContain('waiting until waypoint shop/waypoint is ready');
    expect(text).toMatch(/Gateway shop\/waypoint Programmed \(\d/);
    expect(text.indexOf('Gateway shop/waypoint Programmed (')).toBeLessThan(text.indexOf('namespace shop: istio.io/use-waypoint=waypoint'));
    const gw = api.get('Gateway', 'shop', 'waypoint')!;
    expect(gw.metadata.labels).toEqual({ 'istio.io/waypoint-for': 'all' });
    expect(gw.spec).toEqual({ gatewayClassName: 'ambit-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] });
    expect(nsLabels()['istio.io/use-waypoint']).toBe('waypoint');
    // The waypoint controller's objects are not the CLI's to make on Kubernetes.
    expect(api.get('Service', 'shop', 'waypoint')).toBeUndefined();

    const again = await thrown(applyWaypoint(args));
    expect(again.code).toBe('AMBIT_ERR_CLI_WAYPOINT_EXISTS');
  });

  it('`waypoint apply --enroll-namespace` whose Gateway is never programmed times out and leaves the namespace unlabelled', async () => {
    api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'quiet' } });
    try {
      const e = await thrown(applyWaypoint({ ...target, namespace: 'quiet', name: 'waypoint', for: 'service', 'enroll-namespace': true, timeout: 2 }));
      expect(e.code).toBe('AMBIT_ERR_CLI_WAIT_TIMEOUT');
      expect(e.message).toContain('Gateway quiet/waypoint Programmed (no Programmed condition yet: is the Ambit control plane (its waypoint controller) running?)');
      expect(e.message).toContain('namespace quiet was not labelled');
      expect(api.get('Namespace', undefined, 'quiet')!.metadata.labels?.['istio.io/use-waypoint']).toBeUndefined();
      expect(api.get('Gateway', 'quiet', 'waypoint')).toBeDefined();
    } finally {
      api.remove('Gateway', 'quiet', 'waypoint');
      api.remove('Namespace', undefined, 'quiet');
    }
  });

  it('`waypoint list` shows waypoint-class Gateways with their pods, address and users', async () => {
    // What the waypoint controller would have made by now.
    api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'waypoint', namespace: 'shop' }, spec: { clusterIP: '10.96.0.30', ports: [{ port: 15008 }] } });
    api.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'waypoint-abc', namespace: 'shop', labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
      spec: { containers: [{ name: 'waypoint', image: 'ambit' }] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    await listWaypoints({ ...target, json: false });
    expect(printed.join('').split('\n')).toEqual([
      'WAYPOINT       FOR  READY  ADDRESS           USED BY',
      'shop/waypoint  all  1/1    10.96.0.30:15008  ns:shop',
      '',
    ]);
  });

  it('`waypoint delete` unlabels the namespace, then deletes the Gateway; a second delete says it is gone', async () => {
    expect(await deleteWaypoint({ ...target, namespace: 'shop', name: 'waypoint', timeout: 5 })).toBe(0);
    expect(nsLabels()['istio.io/use-waypoint']).toBeUndefined();
    expect(api.get('Gateway', 'shop', 'waypoint')).toBeUndefined();
    const out = printed.join('');
    expect(out.indexOf('istio.io/use-waypoint removed')).toBeLessThan(out.indexOf('deleted Gateway shop/waypoint'));
    const e = await thrown(deleteWaypoint({ ...target, namespace: 'shop', name: 'waypoint', timeout: 5 }));
    expect(e.code).toBe('AMBIT_ERR_CLI_WAYPOINT_NOT_FOUND');
  });

  it('without the Gateway API CRDs, says so', async () => {
    api.unserve('gateway.networking.k8s.io/gateways');
    try {
      const e = await thrown(listWaypoints({ ...target, json: false }));
      expect(e.code).toBe('AMBIT_ERR_CLI_KUBE_API');
      expect(e.message).toMatch(/listing Gateways failed \(HTTP 404.*\); are the Gateway API CRDs installed\?/);
    } finally {
      api.serve('gateway.networking.k8s.io/gateways');
    }
  });

  it('an unknown --context lists the ones there are', async () => {
    const e = await thrown(listWaypoints({ ...target, context: 'prod', json: false }));
    expect(e.code).toBe('AMBIT_ERR_CLI_NO_TARGET');
    expect(e.message).toBe('no context prod in the kubeconfig (contexts: test)');
  });
});
