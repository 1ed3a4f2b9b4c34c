// `ambit status` for the terminal: the control plane on one line, then tables of agents (one per
// node, with their resources), waypoints and pods, kubectl-style (cli/local/table.ts).
import { formatTable } from '../local/table';
import { renderWaypoints } from '../waypoint/waypoint-list-view';
import type { AgentNodeStatus, ControlPlaneStatus, MeshStatus } from './mesh-status';

export function duration(s: number | undefined): string {
  if (s === undefined) return '-';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const percent = (f: number | undefined): string => (f === undefined ? '-' : `${Math.round(f * 100)}%`);

function controlPlaneLine(cp: ControlPlaneStatus): string {
  if (cp.state !== 'running') return `control plane: ${cp.state}${cp.error ? ` (${cp.error})` : ''}`;
  const parts = [`gRPC ${cp.grpcAddress}`, `status ${cp.httpAddress}`];
  if (cp.error !== undefined) return `control plane: not answering (${cp.error}); ${parts.join(', ')}`;
  const clients = cp.clients ?? [];
  const count = (kind: string): number => clients.filter((c) => c.kind === kind).length;
  const state = cp.ready ? 'ready' : `NOT READY (${cp.readiness ?? 'no answer'})`;
  const nacks = clients.filter((c) => c.lastNack !== undefined).length;
  return (
    `control plane: ${state}, ${parts.join(', ')}, config version ${cp.configVersion ?? '-'}, ` +
    `clients: ${plural(count('agent'), 'agent')}, ${plural(count('waypoint'), 'waypoint')}${nacks > 0 ? `, ${nacks} rejected a config (see --json)` : ''}`
  );
}

function agentState(a: AgentNodeStatus): string {
  if (!a.running) return a.restarts > 0 ? `restarting (${a.restarts} restarts)` : 'not running';
  return `pid ${a.pid ?? '?'}${a.restarts > 0 ? ` (${a.restarts} restarts)` : ''}`;
}

export function renderMeshStatus(s: MeshStatus): string[] {
  const out = [`cluster: ${s.target}`, controlPlaneLine(s.controlPlane), ''];
  out.push(
    ...formatTable(
      ['NODE', 'AGENT', 'READY', 'UPTIME', 'PODS', 'AGENT CPU', 'AGENT MEM', 'NODE CPU', 'NODE MEM', 'ADMIN'],
      s.agents.map((a) => [
        a.node,
        agentState(a),
        a.error !== undefined ? 'no answer' : a.ready === undefined ? '-' : a.ready ? 'yes' : 'no',
        duration(a.uptimeSeconds),
        a.enrolledPods === undefined ? '-' : String(a.enrolledPods),
        a.cpuSeconds === undefined ? '-' : `${a.cpuSeconds.toFixed(1)}s`,
        bytes(a.rssBytes),
        percent(a.nodeCpuUtilization),
        a.nodeMemoryUsedBytes === undefined ? '-' : `${bytes(a.nodeMemoryUsedBytes)}/${bytes(a.nodeMemoryTotalBytes)}`,
        a.admin,
      ]),
    ),
  );
  for (const a of s.agents) {
    if (a.error !== undefined) out.push(`agent on ${a.node}: ${a.error}`);
    else if (a.ready === false) out.push(`agent on ${a.node} not ready: ${(a.readiness ?? '').replace(/\n/g, '; ')}`);
  }
  out.push('');
  if (s.waypoints.length > 0) out.push(...renderWaypoints(s.waypoints), '');
  else out.push('no waypoints', '');
  out.push(
    ...formatTable(
      ['POD', 'NODE', 'IP', 'READY', 'ENROLLED', 'WAYPOINT'],
      s.pods.map((p) => [
        `${p.namespace}/${p.name}`,
        p.node ?? '-',
        p.ips[0] ?? '-',
        p.ready ? 'yes' : p.phase === 'Running' ? 'no' : p.phase,
        p.enrolled ?? '-',
        p.waypoint ? `${p.waypoint} (${p.waypointFor})` : '-',
      ]),
    ),
  );
  return out;
}
