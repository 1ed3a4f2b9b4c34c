// The waypoints of a cluster as `ambit waypoint list` and `ambit status` show them: each Gateway
// of a waypoint class, its pods' readiness, its address (its Service's ClusterIP, HBONE port) and
// what sends traffic through it.
import { Ports } from '../../common/ports';
import type { ClusterView } from '../cluster/target';
import { isWaypoint } from '../cluster/target';
import { formatTable } from '../local/table';
import { usersOf, waypointFor, waypointPods } from './waypoint-usage';

export interface WaypointRow {
  namespace: string;
  name: string;
  for: string;
  /** Pods ready / pods. */
  ready: number;
  pods: number;
  /** ClusterIP:15008 of its Service, when it has one. */
  address?: string;
  usedBy: string[];
  /** Local runtime: the file that defines it. */
  file?: string;
}

export function waypointRows(view: ClusterView, namespace?: string): WaypointRow[] {
  return view.gateways
    .filter((g) => isWaypoint(g) && (namespace === undefined || g.namespace === namespace))
    .map((g) => {
      const ref = { namespace: g.namespace, name: g.name };
      const pods = waypointPods(view, ref);
      const ip = view.services.find((s) => s.namespace === g.namespace && s.name === g.name)?.clusterIP;
      return {
        namespace: g.namespace,
        name: g.name,
        for: waypointFor(g),
        ready: pods.filter((p) => p.ready).length,
        pods: pods.length,
        ...(ip ? { address: `${ip}:${Ports.hbone}` } : {}),
        usedBy: usersOf(view, ref),
        ...(g.file !== undefined ? { file: g.file } : {}),
      };
    })
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export function renderWaypoints(rows: readonly WaypointRow[]): string[] {
  return formatTable(
    ['WAYPOINT', 'FOR', 'READY', 'ADDRESS', 'USED BY'],
    rows.map((r) => [`${r.namespace}/${r.name}`, r.for, `${r.ready}/${r.pods}`, r.address ?? '-', r.usedBy.join(' ') || '<nothing>']),
  );
}
