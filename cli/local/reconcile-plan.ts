// What one reconcile pass does, as a pure function of what the directory wants and what runs:
//   - a running pod whose object is gone is removed; one whose spec changed is replaced (pods are
//     immutable in Kubernetes, so a changed spec means a new pod);
//   - a node is added for every spec.nodeName that does not exist yet, in name order, and `node1`
//     when a pod needs a node and there is none;
//   - each new pod goes to its spec.nodeName, or to the least-loaded node counting this pass's
//     placements (scheduler.ts).
import type { ObjectKey, Pod } from '../../control-plane/kube/objects';
import { leastLoadedNode } from './scheduler';

/** The node of a directory whose pods name none. */
export const DEFAULT_NODE = 'node1';

export interface RunningPod {
  /** JSON of the spec it was created from. */
  spec: string;
  node: string;
}

export interface ReconcilePlan {
  remove: Array<{ key: ObjectKey; reason: 'removed' | 'changed' }>;
  addNodes: string[];
  create: Array<{ key: ObjectKey; pod: Pod; node: string }>;
}

export const specOf = (pod: Pod): string => JSON.stringify(pod.spec ?? {});

export function planReconcile(
  wanted: ReadonlyMap<ObjectKey, Pod>,
  running: ReadonlyMap<ObjectKey, RunningPod>,
  existingNodes: readonly string[],
): ReconcilePlan {
  const remove: ReconcilePlan['remove'] = [];
  const kept = new Map<ObjectKey, RunningPod>();
  for (const [key, r] of running) {
    const w = wanted.get(key);
    if (w === undefined) remove.push({ key, reason: 'removed' });
    else if (specOf(w) !== r.spec) remove.push({ key, reason: 'changed' });
    else kept.set(key, r);
  }
  const fresh = [...wanted].filter(([key]) => !kept.has(key));
  const named = [...new Set(fresh.map(([, p]) => p.spec?.nodeName).filter((n): n is string => !!n))].sort();
  let addNodes = named.filter((n) => !existingNodes.includes(n));
  if (fresh.length > 0 && existingNodes.length + addNodes.length === 0) addNodes = [DEFAULT_NODE];
  const nodes = [...existingNodes, ...addNodes];
  const load = new Map(nodes.map((n) => [n, [...kept.values()].filter((r) => r.node === n).length]));
  // Pods that name their node first, so the least-loaded choice sees them.
  const ordered = [...fresh.filter(([, p]) => p.spec?.nodeName), ...fresh.filter(([, p]) => !p.spec?.nodeName)];
  const create = ordered.map(([key, pod]) => {
    const node = pod.spec?.nodeName || leastLoadedNode([...load].map(([name, pods]) => ({ name, pods })));
    load.set(node, (load.get(node) ?? 0) + 1);
    return { key, pod, node };
  });
  return { remove, addNodes, create };
}
