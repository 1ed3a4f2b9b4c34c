// What "live" means for each change, as items for waitUntilLive: the expectation comes from the
// directory as it is now (after the edit), the answer from what runs — the runtime's status.json
// (enrollment, pod readiness) and each agent's /config_dump (which services and workloads it
// sends through a waypoint).
import path from 'node:path';
import type { Pod } from '../../control-plane/kube/objects';
import { isAmbient } from '../local/status-snapshot';
import { isWaypointPod, podWaypoint, refText, serviceWaypoint, waypointPods, type WaypointRef } from '../waypoint/waypoint-usage';
import { agentEndpoint } from './local-endpoints';
import type { LocalTarget } from './local-target';
import { getJson } from './netns-http';
import type { WaitItem } from './live-wait';

/** Every running pod of `ns` enrolled or not, as its labels and its namespace's now say. */
export async function enrollmentItems(target: LocalTarget, ns: string): Promise<WaitItem[]> {
  const view = await target.view();
  const nsLabels = view.namespaces.find((n) => n.name === ns)?.labels ?? {};
  return view.pods
    .filter((p) => p.namespace === ns && p.phase === 'Running' && !isWaypointPod(p))
    .map((p) => {
      const ambient = isAmbient({ kind: 'Pod', metadata: { name: p.name, namespace: ns, labels: { ...p.labels } } } as Pod, nsLabels);
      const done = ambient ? p.enrolled === 'enrolled' : p.enrolled === 'not ambient';
      return { id: `${ns}/${p.name} ${ambient ? 'enrolled' : 'not enrolled'}`, done, ...(!done && p.detail ? { detail: p.detail } : {}) };
    });
}

/** The waypoint's pods all ready. */
export async function waypointReadyItems(target: LocalTarget, ref: WaypointRef): Promise<WaitItem[]> {
  const pods = waypointPods(await target.view(), ref);
  if (pods.length === 0) return [{ id: `waypoint ${refText(ref)} pod created`, done: false }];
  const log = (p: { namespace: string; name: string }): string => path.join(target.paths.logs, `${p.namespace}_${p.name}_*.log`);
  return pods.map((p) => ({ id: `${p.namespace}/${p.name} ready`, done: p.ready, ...(p.detail ? { detail: `${p.detail}; its log: ${log(p)}` } : {}) }));
}

/**
 * These pods gone from the runtime. (Named up front: once their file is removed the directory no
 * longer says which pods were the waypoint's, while the runtime still stops them.)
 */
export async function podsGoneItems(target: LocalTarget, namespace: string, names: readonly string[]): Promise<WaitItem[]> {
  const running = new Set((await target.view()).pods.filter((p) => p.namespace === namespace).map((p) => p.name));
  return names.map((n) => ({ id: `${namespace}/${n} removed`, done: !running.has(n) }));
}

interface Bound {
  namespace: string;
  name: string;
  waypoint?: { name?: string; namespace?: string; addresses?: string[] } | null;
}

interface AgentDump {
  config?: { services?: Bound[]; workloads?: Bound[] };
}

const through = (b: Bound | undefined, ref: WaypointRef): boolean =>
  b?.waypoint?.name === ref.name && (b.waypoint.namespace ?? b.namespace) === ref.namespace && (b.waypoint.addresses?.length ?? 0) > 0;

/**
 * Every running agent's config agrees with the labels about which Services and workloads of `ns`
 * go through waypoint `ref`: once it does, the agents send (or stop sending) that traffic there.
 */
export async function bindingItems(target: LocalTarget, ns: string, ref: WaypointRef): Promise<WaitItem[]> {
  const view = await target.view();
  const status = target.status();
  const same = (r: WaypointRef | undefined): boolean => r !== undefined && r.namespace === ref.namespace && r.name === ref.name;
  const services = view.services.filter((s) => s.namespace === ns).map((s) => ({ name: s.name, want: same(serviceWaypoint(view, ns, s.name, s.labels)) }));
  const workloads = view.pods
    .filter((p) => p.namespace === ns && p.enrolled === 'enrolled')
    .map((p) => ({ name: p.name, want: same(podWaypoint(view, p)) }));
  if (services.length + workloads.length === 0) return [];
  const routed = services.filter((s) => s.want).length + workloads.filter((w) => w.want).length;
  const what = routed > 0 ? `sends ${routed} of ${ns}'s services/workloads through ${refText(ref)}` : `sends nothing of ${ns} through ${refText(ref)}`;
  const agents = status.nodes.filter((n) => n.agent?.running);
  return Promise.all(
    agents.map(async (n) => {
      const dump = await getJson<AgentDump>(agentEndpoint(target, status, n.name, 'admin'), '/config_dump');
      const find = (list: Bound[] | undefined, name: string): Bound | undefined => list?.find((b) => b.namespace === ns && b.name === name);
      const ok =
        services.every((s) => through(find(dump.config?.services, s.name), ref) === s.want) &&
        workloads.every((w) => through(find(dump.config?.workloads, w.name), ref) === w.want);
      return { id: `agent on ${n.name} ${what}`, done: ok };
    }),
  );
}
