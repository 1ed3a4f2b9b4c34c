// What `ambit status` shows, collected from the running local runtime: the control plane (its
// status server: readiness, connected clients, the config version they were sent), each node's
// agent (status.json for pid and restarts; its readiness and /metrics for uptime, enrolled pods,
// its own CPU and memory and the node's), the waypoints, and every pod with its enrollment and
// waypoint. A part that does not answer is reported as such; the rest is still shown.
import { NODE_METRICS } from '../../agent/telemetry/node-resources';
import { controlPlaneEndpoint, agentEndpoint } from './local-endpoints';
import type { LocalTarget } from './local-target';
import { getJson, httpGet } from './netns-http';
import { metricSum, parsePrometheusText } from '../../common/telemetry/prometheus-text';
import { isWaypointPod, refText, waypointFor, waypointNamedBy } from '../waypoint/waypoint-usage';
import { isWaypoint } from './target';
import { waypointRows, type WaypointRow } from '../waypoint/waypoint-list-view';

export interface ControlPlaneStatus {
  state: 'starting' | 'running' | 'failed';
  grpcAddress?: string;
  httpAddress?: string;
  ready?: boolean;
  /** The readiness answer when not ready ("not ready: sources-synced"). */
  readiness?: string;
  /** The newest config version sent to a client. */
  configVersion?: string;
  clients?: ClientStatus[];
  error?: string;
}

export interface ClientStatus {
  kind: string;
  node?: string;
  waypoint?: string;
  connectedAt?: string;
  lastSentVersion?: string;
  lastAckedVersion?: string;
  lastNack?: unknown;
}

export interface AgentNodeStatus {
  node: string;
  running: boolean;
  pid?: number;
  restarts: number;
  admin: string;
  ready?: boolean;
  readiness?: string;
  uptimeSeconds?: number;
  enrolledPods?: number;
  cpuSeconds?: number;
  rssBytes?: number;
  nodeCpuUtilization?: number;
  nodeMemoryUsedBytes?: number;
  nodeMemoryTotalBytes?: number;
  error?: string;
}

export interface PodStatusRow {
  namespace: string;
  name: string;
  node?: string;
  ips: string[];
  phase: string;
  ready: boolean;
  enrolled?: string;
  /** The waypoint its labels (or its namespace's) name, and what it takes ("missing": no such waypoint). */
  waypoint?: string;
  waypointFor?: string;
}

export interface MeshStatus {
  target: string;
  controlPlane: ControlPlaneStatus;
  agents: AgentNodeStatus[];
  waypoints: WaypointRow[];
  pods: PodStatusRow[];
}

/** Newest of "<instance>-<counter>" versions (the counter only grows within one control plane). */
export function newestVersion(versions: readonly string[]): string | undefined {
  const counter = (v: string): number => Number(/-(\d+)$/.exec(v)?.[1] ?? -1);
  return versions.filter((v) => v !== '').sort((a, b) => counter(b) - counter(a))[0];
}

async function controlPlaneStatus(target: LocalTarget, status: ReturnType<LocalTarget['status']>): Promise<ControlPlaneStatus> {
  const cp = status.controlPlane;
  if (cp.state !== 'running') return { state: cp.state, ...(cp.state === 'failed' ? { error: cp.error } : {}) };
  const at = controlPlaneEndpoint(target, status)!;
  const base: ControlPlaneStatus = { state: 'running', grpcAddress: cp.grpcAddress, httpAddress: cp.httpAddress };
  try {
    const [ready, clients] = await Promise.all([httpGet(at, '/healthz/ready'), getJson<ClientStatus[]>(at, '/debug/clients')]);
    const version = newestVersion(clients.map((c) => c.lastSentVersion ?? ''));
    return {
      ...base,
      ready: ready.status === 200,
      ...(ready.status === 200 ? {} : { readiness: ready.body.trim() }),
      ...(version ? { configVersion: version } : {}),
      clients: clients.map((c) => ({
        kind: c.kind,
        ...(c.node ? { node: c.node } : {}),
        ...(c.waypoint ? { waypoint: c.waypoint } : {}),
        connectedAt: c.connectedAt,
        lastSentVersion: c.lastSentVersion,
        lastAckedVersion: c.lastAckedVersion,
        ...(c.lastNack ? { lastNack: c.lastNack } : {}),
      })),
    };
  } catch (e) {
    return { ...base, error: (e as Error).message };
  }
}

async function agentStatus(target: LocalTarget, status: ReturnType<LocalTarget['status']>, node: (typeof status.nodes)[number]): Promise<AgentNodeStatus> {
  const a = node.agent;
  const row: AgentNodeStatus = { node: node.name, running: a?.running ?? false, restarts: a?.restarts ?? 0, admin: a ? `http://${a.adminAddress}:15000` : '-' };
  if (a?.pid !== undefined) row.pid = a.pid;
  if (!a?.running) return row;
  try {
    const [ready, metricsText] = await Promise.all([
      httpGet(agentEndpoint(target, status, node.name, 'readiness'), '/healthz/ready'),
      httpGet(agentEndpoint(target, status, node.name, 'metrics'), '/metrics'),
    ]);
    const m = parsePrometheusText(metricsText.body);
    const started = metricSum(m, 'process_start_time_seconds');
    const set = <K extends keyof AgentNodeStatus>(k: K, v: AgentNodeStatus[K] | undefined): void => {
      if (v !== undefined) row[k] = v;
    };
    row.ready = ready.status === 200;
    if (!row.ready) row.readiness = ready.body.trim();
    set('uptimeSeconds', started !== undefined ? Math.max(0, Math.round(Date.now() / 1000 - started)) : undefined);
    set('enrolledPods', metricSum(m, 'ambit_agent_enrolled_pods'));
    set('cpuSeconds', metricSum(m, 'process_cpu_seconds_total'));
    set('rssBytes', metricSum(m, 'process_resident_memory_bytes'));
    set('nodeCpuUtilization', metricSum(m, NODE_METRICS.cpuUtilization));
    set('nodeMemoryUsedBytes', metricSum(m, NODE_METRICS.memoryUsed));
    set('nodeMemoryTotalBytes', metricSum(m, NODE_METRICS.memoryTotal));
  } catch (e) {
    row.error = (e as Error).message;
  }
  return row;
}

export async function collectMeshStatus(target: LocalTarget): Promise<MeshStatus> {
  const view = await target.view();
  const status = target.status();
  const [controlPlane, agents] = await Promise.all([controlPlaneStatus(target, status), Promise.all(status.nodes.map((n) => agentStatus(target, status, n)))]);
  return {
    target: target.description,
    controlPlane,
    agents,
    waypoints: waypointRows(view),
    pods: view.pods.map((p) => {
      const nsLabels = view.namespaces.find((n) => n.name === p.namespace)?.labels ?? {};
      const w = isWaypointPod(p) ? undefined : waypointNamedBy(p.labels, p.namespace, nsLabels);
      const gw = w && view.gateways.find((g) => isWaypoint(g) && g.namespace === w.namespace && g.name === w.name);
      return {
        namespace: p.namespace,
        name: p.name,
        ...(p.node ? { node: p.node } : {}),
        ips: p.ips,
        phase: p.phase,
        ready: p.ready,
        ...(p.enrolled ? { enrolled: p.enrolled } : {}),
        ...(w ? { waypoint: refText(w), waypointFor: gw ? waypointFor(gw) : 'missing' } : {}),
      };
    }),
  };
}
