import { planReconcile, specOf } from '../../cli/local/reconcile-plan';
import { leastLoadedNode } from '../../cli/local/scheduler';
import type { Pod } from '../../control-plane/kube/objects';

const pod = (name: string, nodeName?: string, cmd = 'a.js'): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'demo' },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', command: ['node', cmd] }] },
});
const wanted = (...pods: Pod[]): Map<string, Pod> => new Map(pods.map((p) => [`Pod/demo/${p.metadata.name}`, p]));

describe('local runtime scheduling and reconcile plan', () => {
  it('picks the least-loaded node, the first one on a tie', () => {
    expect(leastLoadedNode([{ name: 'node1', pods: 2 }, { name: 'node2', pods: 1 }])).toBe('node2');
    expect(leastLoadedNode([{ name: 'node1', pods: 1 }, { name: 'node2', pods: 1 }])).toBe('node1');
    expect(() => leastLoadedNode([])).toThrow(/no node/);
  });

  it('creates a node per distinct nodeName in name order, and node1 when no pod names one', () => {
    expect(planReconcile(wanted(pod('a', 'node2'), pod('b', 'node1'), pod('c', 'node2')), new Map(), []).addNodes).toEqual(['node1', 'node2']);
    expect(planReconcile(wanted(pod('a'), pod('b')), new Map(), []).addNodes).toEqual(['node1']);
    expect(planReconcile(new Map(), new Map(), []).addNodes).toEqual([]);
  });

  it('places pods without nodeName on the least-loaded node after the named ones', () => {
    const plan = planReconcile(wanted(pod('free1'), pod('a', 'node1'), pod('b', 'node1'), pod('free2'), pod('c', 'node2')), new Map(), []);
    const where = Object.fromEntries(plan.create.map((c) => [c.pod.metadata.name, c.node]));
    expect(where).toEqual({ a: 'node1', b: 'node1', c: 'node2', free1: 'node2', free2: 'node1' });
  });

  it('counts pods already running when placing new ones', () => {
    const running = new Map([
      ['Pod/demo/x', { spec: specOf(pod('x', 'node1')), node: 'node1' }],
      ['Pod/demo/y', { spec: specOf(pod('y', 'node1')), node: 'node1' }],
    ]);
    const plan = planReconcile(wanted(pod('x', 'node1'), pod('y', 'node1'), pod('new')), running, ['node1', 'node2']);
    expect(plan).toEqual({ remove: [], addNodes: [], create: [{ key: 'Pod/demo/new', pod: pod('new'), node: 'node2' }] });
  });

  it('removes pods whose object is gone and replaces pods whose spec changed', () => {
    const running = new Map([
      ['Pod/demo/gone', { spec: specOf(pod('gone')), node: 'node1' }],
      ['Pod/demo/same', { spec: specOf(pod('same')), node: 'node1' }],
      ['Pod/demo/edited', { spec: specOf(pod('edited')), node: 'node1' }],
    ]);
    const plan = planReconcile(wanted(pod('same'), pod('edited', undefined, 'b.js')), running, ['node1']);
    expect(plan.remove).toEqual([
      { key: 'Pod/demo/gone', reason: 'removed' },
      { key: 'Pod/demo/edited', reason: 'changed' },
    ]);
    expect(plan.create.map((c) => c.key)).toEqual(['Pod/demo/edited']);
  });
});
