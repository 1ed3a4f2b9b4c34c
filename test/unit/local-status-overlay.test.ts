import { ClusterIpAllocator } from '../../cli/local/cluster-ips';
import { DesiredState } from '../../cli/local/desired-state';
import type { PodRuntimeStatus } from '../../cli/local/pod-runner';
import { StatusOverlay } from '../../cli/local/status-overlay';
import type { KubeObject, Pod, Service } from '../../control-plane/kube/objects';
import { objectKey } from '../../control-plane/kube/objects';
import type { ConfigProblem, SourceChanges } from '../../control-plane/sources/source';

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'demo', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', command: ['node', 'web.js'] }] },
};
const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } };

function setup() {
  const desired = new DesiredState();
  const statuses = new Map<string, PodRuntimeStatus>();
  const listeners = new Set<(ns: string, name: string) => void>();
  const vips = new ClusterIpAllocator();
  const overlay = new StatusOverlay(
    desired,
    { podStatus: (ns, name) => statuses.get(`${ns}/${name}`), onPodStatus: (l) => (listeners.add(l), () => listeners.delete(l)) },
    { clusterIP: (s) => vips.assign(objectKey(s), s.spec?.clusterIP).ip },
    'yaml:/test',
  );
  const applied: SourceChanges[] = [];
  const problems: Array<readonly ConfigProblem[]> = [];
  let synced = 0;
  const sink = { apply: (c: SourceChanges) => applied.push(c), problems: (p: readonly ConfigProblem[]) => problems.push(p), synced: () => synced++ };
  const setStatus = (s: Partial<PodRuntimeStatus>): void => {
    statuses.set('demo/web', {
      uid: 'uid-1',
      namespace: 'demo',
      name: 'web',
      node: 'node2',
      hostIP: '198.18.2.1',
      podIPs: ['198.18.2.10', 'fd00:a3b1:2::10'],
      phase: 'Running',
      ready: false,
      startTime: '2026-01-01T00:00:00.000Z',
      containers: [],
      ...s,
    });
    for (const l of listeners) l('demo', 'web');
  };
  return { desired, overlay, sink, applied, problems, setStatus, synced: () => synced };
}

describe('local runtime status overlay', () => {
  it('delivers pods as kubelet-observed and Services with an allocated ClusterIP', async () => {
    const t = setup();
    t.desired.apply({ upsert: [pod, svc], remove: [] });
    t.desired.synced();
    t.setStatus({ ready: true });
    await t.overlay.start(t.sink);
    expect(t.synced()).toBe(1);
    const [first] = t.applied;
    const p = first.upsert.find((o) => o.kind === 'Pod') as Pod;
    expect(p.metadata.uid).toBe('uid-1');
    expect(p.spec?.nodeName).toBe('node2');
    expect(p.status).toMatchObject({
      phase: 'Running',
      podIP: '198.18.2.10',
      podIPs: [{ ip: '198.18.2.10' }, { ip: 'fd00:a3b1:2::10' }],
      hostIP: '198.18.2.1',
    });
    expect(p.status?.conditions).toContainEqual({ type: 'Ready', status: 'True' });
    const s = first.upsert.find((o) => o.kind === 'Service') as Service;
    expect(s.spec).toMatchObject({ clusterIP: '198.19.0.10', clusterIPs: ['198.19.0.10'] });
    // The desired object itself is left alone.
    expect(svc.spec?.clusterIP).toBeUndefined();
  });

  it('shows a pod the runtime has not created yet as Pending and unscheduled', async () => {
    const t = setup();
    t.desired.apply({ upsert: [pod], remove: [] });
    t.desired.synced();
    await t.overlay.start(t.sink);
    const p = t.applied[0].upsert[0] as Pod;
    expect(p.status?.phase).toBe('Pending');
    expect(p.spec?.nodeName).toBeUndefined();
    expect(p.status?.conditions).toContainEqual({ type: 'PodScheduled', status: 'False' });
  });

  it('re-delivers a pod when its readiness changes, and only then', async () => {
    const t = setup();
    t.desired.apply({ upsert: [pod], remove: [] });
    t.desired.synced();
    t.setStatus({ ready: false });
    await t.overlay.start(t.sink);
    const before = t.applied.length;
    t.setStatus({ ready: false }); // nothing new
    expect(t.applied.length).toBe(before);
    t.setStatus({ ready: true });
    expect(t.applied.length).toBe(before + 1);
    const again = t.applied.at(-1)!.upsert[0] as KubeObject<unknown, { conditions: Array<{ type: string; status: string }> }>;
    expect(again.status?.conditions).toContainEqual({ type: 'Ready', status: 'True' });
  });

  it('forwards removals and problems, and nothing after stop()', async () => {
    const t = setup();
    t.desired.apply({ upsert: [pod], remove: [] });
    t.desired.synced();
    await t.overlay.start(t.sink);
    t.desired.apply({ upsert: [], remove: ['Pod/demo/web'] });
    expect(t.applied.at(-1)).toEqual({ upsert: [], remove: ['Pod/demo/web'] });
    const problem: ConfigProblem = { severity: 'error', source: 'yaml:/test', file: 'x.yaml', line: 3, message: 'bad' };
    t.desired.problems([problem]);
    expect(t.problems.at(-1)).toEqual([problem]);
    await t.overlay.stop();
    const n = t.applied.length;
    t.desired.apply({ upsert: [pod], remove: [] });
    t.setStatus({ ready: true });
    expect(t.applied.length).toBe(n);
  });
});
