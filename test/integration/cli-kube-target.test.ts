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

    await labelNamespace({ ...target, name: 'shop', off: true, timeout: 5 });
    expect(nsLabels()).toEqual({ team: 'retail', 'kubernetes.io/metadata.name': 'shop' });
  });

  it('`label ns` of a namespace that does not exist names the ones that do', async () => {
    const e = await thrown(labelNamespace({ ...target, name: 'nope', off: false, timeout: 5 }));
    expect(e.code).toBe('AMBIT_ERR_CLI_UNKNOWN_NAMESPACE');
    expect(e.message).toMatch(/namespace nope does not exist .*\(namespaces: shop\)/);
  });

  it('`waypoint apply --enroll-namespace` creates the Gateway, then labels the namespace; a second apply is refused', async () => {
    const args = { ...target, namespace: 'shop', name: 'waypoint', for: 'all' as const, 'enroll-namespace': true, timeout: 5 };
    expect(await applyWaypoint(args)).toBe(0);
    const gw = api.get('Gateway', 'shop', 'waypoint')!;
    expect(gw.metadata.labels).toEqual({ 'istio.io/waypoint-for': 'all' });
    expect(gw.spec).toEqual({ gatewayClassName: 'ambit-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] });
    expect(nsLabels()['istio.io/use-waypoint']).toBe('waypoint');
    // The waypoint controller's objects are not the CLI's to make on Kubernetes.
    expect(api.get('Service', 'shop', 'waypoint')).toBeUndefined();

    const again = await thrown(applyWaypoint(args));
    expect(again.code).toBe('AMBIT_ERR_CLI_WAYPOINT_EXISTS');
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
