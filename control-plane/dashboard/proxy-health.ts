/**
 * The dashboard's side table: each node agent (and waypoint) — connected to the control plane or
 * not, whether its metrics answer, when they last did, and its resources from the newest scrape:
 * the agents' node gauges (ambit_node_*) and the process' own RSS and CPU. Every node that runs
 * pods gets a row, also when no agent of it is connected. Pure.
 */
import { NODE_GAUGES, PROCESS_METRICS } from './metric-names';
import type { Sample } from '../../common/telemetry/prometheus-text';
import { counterIncrease } from './series-math';
import type { ScrapeTarget } from './metrics-scraper';

export type ProxyStatus = 'healthy' | 'unhealthy' | 'disconnected' | 'no agent';

export interface ProxyResources {
  /** 0..1 of all node CPUs (agents only). */
  readonly nodeCpu?: number;
  readonly nodeMemoryUsedBytes?: number;
  readonly nodeMemoryTotalBytes?: number;
  readonly nodeLoad1?: number;
  readonly processRssBytes?: number;
  /** CPU seconds per second of the process over the rate window. */
  readonly processCpu?: number;
}

export interface ProxyRow {
  readonly kind: 'agent' | 'waypoint';
  /** Node name, or "<ns>/<name>" of a waypoint. */
  readonly name: string;
  readonly status: ProxyStatus;
  /** Why it is not healthy. */
  readonly detail?: string;
  readonly metricsUrl?: string;
  readonly connectedSince?: string;
  readonly lastScrapeAt?: string;
  readonly resources?: ProxyResources;
}

/** What the scraper knows of one target (a TargetState, narrowed). */
export interface ScrapedTarget {
  readonly target: ScrapeTarget;
  readonly connected: boolean;
  readonly healthy: boolean;
  readonly lastSuccessAt?: number;
  readonly lastError?: string;
  readonly first?: { at: number; samples: readonly Sample[] };
  readonly last?: { at: number; samples: readonly Sample[] };
}

const gauge = (samples: readonly Sample[], names: readonly string[]): number | undefined =>
  samples.find((s) => names.includes(s.name))?.value;

function resourcesOf(t: ScrapedTarget): ProxyResources | undefined {
  if (t.last === undefined) return undefined;
  const s = t.last.samples;
  const cpuNow = gauge(s, PROCESS_METRICS.cpuSeconds);
  const cpuBefore = t.first !== undefined ? gauge(t.first.samples, PROCESS_METRICS.cpuSeconds) : undefined;
  const seconds = t.first !== undefined ? (t.last.at - t.first.at) / 1000 : 0;
  const r: Record<string, number | undefined> = {
    nodeCpu: gauge(s, [NODE_GAUGES.cpuUtilization]),
    nodeMemoryUsedBytes: gauge(s, [NODE_GAUGES.memoryUsed]),
    nodeMemoryTotalBytes: gauge(s, [NODE_GAUGES.memoryTotal]),
    nodeLoad1: gauge(s, [NODE_GAUGES.load1]),
    processRssBytes: gauge(s, PROCESS_METRICS.rss),
    processCpu: cpuNow !== undefined && seconds > 0 ? counterIncrease(cpuBefore, cpuNow) / seconds : undefined,
  };
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as ProxyResources;
}

function rowOf(t: ScrapedTarget): ProxyRow {
  const status: ProxyStatus = !t.connected ? 'disconnected' : t.healthy ? 'healthy' : 'unhealthy';
  const detail = !t.connected
    ? 'not connected to the control plane'
    : t.target.metricsUrlProblem ?? (t.target.metricsUrl === undefined ? 'sent no metrics_url; its metrics cannot be scraped' : t.healthy ? undefined : t.lastError ?? 'not scraped yet');
  return {
    kind: t.target.kind,
    name: t.target.target,
    status,
    ...(detail !== undefined ? { detail } : {}),
    ...(t.target.metricsUrl !== undefined ? { metricsUrl: t.target.metricsUrl } : {}),
    ...(t.connected ? { connectedSince: t.target.connectedAt.toISOString() } : {}),
    ...(t.lastSuccessAt !== undefined ? { lastScrapeAt: new Date(t.lastSuccessAt).toISOString() } : {}),
    ...(t.last !== undefined ? { resources: resourcesOf(t) } : {}),
  };
}

/** Agents first (by node), then waypoints; a connected target wins over a gone one of the same name. */
export function proxyRows(targets: readonly ScrapedTarget[], nodesWithPods: readonly string[]): ProxyRow[] {
  const best = new Map<string, ProxyRow>();
  const rank = (r: ProxyRow): number => ['healthy', 'unhealthy', 'disconnected', 'no agent'].indexOf(r.status);
  for (const t of targets) {
    const row = rowOf(t);
    const key = `${row.kind}|${row.name}|${t.connected ? row.metricsUrl ?? '' : 'gone'}`;
    const prev = best.get(key);
    if (prev === undefined || rank(row) < rank(prev)) best.set(key, row);
  }
  const rows = [...best.values()];
  // A gone row is noise once the same proxy is back.
  const live = new Set(rows.filter((r) => r.status !== 'disconnected').map((r) => `${r.kind}|${r.name}`));
  const shown = rows.filter((r) => r.status !== 'disconnected' || !live.has(`${r.kind}|${r.name}`));
  for (const node of nodesWithPods) {
    if (!shown.some((r) => r.kind === 'agent' && r.name === node)) shown.push({ kind: 'agent', name: node, status: 'no agent', detail: 'pods run on this node but no agent is connected' });
  }
  return shown.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}
