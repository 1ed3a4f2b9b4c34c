// Which waypoint an object's traffic goes through, resolved from labels the way the control plane
// does it (control-plane/translate/waypoints.ts): the object's own istio.io/use-waypoint wins over
// its namespace's, "none" opts out, istio.io/use-waypoint-namespace points at another namespace,
// and the Gateway's istio.io/waypoint-for says whether it takes service or workload traffic.
import type { ClusterView, GatewayView, LabelMap, PodView } from '../cluster/target';
import { isWaypoint, Labels } from '../cluster/target';

export interface WaypointRef {
  namespace: string;
  name: string;
}

export const refText = (r: WaypointRef): string => `${r.namespace}/${r.name}`;

/** The waypoint named by an object's (or else its namespace's) labels, if any. */
export function waypointNamedBy(own: LabelMap, namespace: string, nsLabels: LabelMap): WaypointRef | undefined {
  const from = own[Labels.USE_WAYPOINT] !== undefined ? own : nsLabels;
  const name = from[Labels.USE_WAYPOINT];
  if (name === undefined || name === '' || name === 'none') return undefined;
  return { namespace: from[Labels.USE_WAYPOINT_NAMESPACE] ?? namespace, name };
}

export function waypointFor(g: GatewayView): 'service' | 'workload' | 'all' | 'none' {
  const v = g.labels[Labels.WAYPOINT_FOR];
  return v === 'workload' || v === 'all' || v === 'none' ? v : 'service';
}

const handles = (g: GatewayView | undefined, kind: 'service' | 'workload'): boolean => {
  if (g === undefined) return true; // bound, and refused until the waypoint exists (fail closed)
  const f = waypointFor(g);
  return f === 'all' || f === kind;
};

const nsLabelsOf = (view: ClusterView, ns: string): LabelMap => view.namespaces.find((n) => n.name === ns)?.labels ?? {};
const gatewayOf = (view: ClusterView, r: WaypointRef): GatewayView | undefined =>
  view.gateways.find((g) => isWaypoint(g) && g.namespace === r.namespace && g.name === r.name);

/** The pods of a waypoint (labelled with its Gateway's name). */
export const waypointPods = (view: ClusterView, r: WaypointRef): PodView[] =>
  view.pods.filter((p) => p.namespace === r.namespace && p.labels[Labels.GATEWAY_NAME] === r.name);

export const isWaypointPod = (p: PodView): boolean => p.labels[Labels.GATEWAY_NAME] !== undefined;

/** The waypoint a Service's traffic goes through (a waypoint's own Service never has one). */
export function serviceWaypoint(view: ClusterView, ns: string, name: string, labels: LabelMap): WaypointRef | undefined {
  if (view.gateways.some((g) => isWaypoint(g) && g.namespace === ns && g.name === name)) return undefined;
  const r = waypointNamedBy(labels, ns, nsLabelsOf(view, ns));
  return r !== undefined && handles(gatewayOf(view, r), 'service') ? r : undefined;
}

/** The waypoint a pod's own (workload-addressed) traffic goes through. */
export function podWaypoint(view: ClusterView, p: PodView): WaypointRef | undefined {
  if (isWaypointPod(p)) return undefined;
  const r = waypointNamedBy(p.labels, p.namespace, nsLabelsOf(view, p.namespace));
  return r !== undefined && handles(gatewayOf(view, r), 'workload') ? r : undefined;
}

/** "ns:shop", "svc:shop/web", "pod:shop/a": what sends traffic through waypoint `r`. */
export function usersOf(view: ClusterView, r: WaypointRef): string[] {
  const same = (x: WaypointRef | undefined): boolean => x !== undefined && x.namespace === r.namespace && x.name === r.name;
  const out: string[] = [];
  for (const n of view.namespaces) if (same(waypointNamedBy({}, n.name, n.labels))) out.push(`ns:${n.name}`);
  for (const s of view.services) if (s.labels[Labels.USE_WAYPOINT] !== undefined && same(serviceWaypoint(view, s.namespace, s.name, s.labels))) out.push(`svc:${s.namespace}/${s.name}`);
  for (const p of view.pods) if (p.labels[Labels.USE_WAYPOINT] !== undefined && same(podWaypoint(view, p))) out.push(`pod:${p.namespace}/${p.name}`);
  return out;
}
