/**
 * Traffic edges from scraped metrics, Kiali-style: caller workload -> service -> serving workload.
 *
 * - HTTP (L7), from the waypoints' istio_requests_total{reporter="waypoint"}: rps = requests/s,
 *   error rate = share of 5xx, p99 = histogram_quantile(0.99) over the window's increase of
 *   istio_request_duration_milliseconds_bucket.
 * - TCP (L4), from the agents' istio_tcp_connections_opened_total: rps = connections/s, error rate
 *   = istio_tcp_connections_failed_total / opened, no p99 (no histogram). Each connection is
 *   counted once: reporter="source" (every captured connection has one), plus reporter="destination"
 *   only for callers outside the mesh (no source agent saw them).
 * - A hop to or from a waypoint is not an edge of its own. A connection to a waypoint becomes an
 *   edge caller -> service, which is dropped where the waypoint reports HTTP for that pair (it is
 *   the carrier of those requests) and kept otherwise (TCP through the waypoint, which reports no
 *   metrics of its own). Direct connections are always TCP edges, also beside an HTTP edge.
 *
 * Rates are summed over targets, each over its own window (agents and waypoints are scraped
 * independently). Pure.
 */
import type { Sample } from '../../common/telemetry/prometheus-text';
import { TRAFFIC_METRICS } from './metric-names';
import { bucketBound, histogramQuantile, increases, ScrapeWindow } from './series-math';

export type Protocol = 'http' | 'tcp';

export interface TrafficEdge {
  readonly from: string;
  readonly to: string;
  readonly protocol: Protocol;
  /** Requests (http) or connections (tcp) per second over the window. */
  readonly rps: number;
  /** 0..1; null when nothing happened in the window. */
  readonly errorRate: number | null;
  /** 99th percentile duration (ms); null for tcp or without requests in the window. */
  readonly p99Ms: number | null;
  /** Requests or connections counted since the reporters started. */
  readonly total: number;
}

export interface TrafficNode {
  readonly id: string;
  readonly kind: 'workload' | 'service' | 'external';
  readonly namespace: string;
  readonly name: string;
}

export interface TrafficInput {
  /** One window per scraped target (agents and waypoints alike). */
  readonly windows: readonly ScrapeWindow[];
  /** Whether <namespace>/<workload> is a waypoint (its hops are not edges). */
  readonly isWaypoint: (namespace: string, workload: string) => boolean;
}

const UNKNOWN = 'unknown';
export const OUTSIDE: TrafficNode = { id: 'ext:outside', kind: 'external', namespace: '', name: 'outside the mesh' };
export const workloadNodeId = (namespace: string, name: string): string => `wl:${namespace}/${name}`;
export const serviceNodeId = (namespace: string, name: string): string => `svc:${namespace}/${name}`;

const known = (v: string | undefined): v is string => v !== undefined && v !== '' && v !== UNKNOWN;

interface Accumulator {
  from: string;
  to: string;
  protocol: Protocol;
  /** L4 connections to a waypoint (the carrier of its HTTP requests, if it reports any). */
  viaWaypoint: boolean;
  rate: number;
  errorRate: number;
  total: number;
  buckets: Map<number, number>;
}

class EdgeSet {
  readonly nodes = new Map<string, TrafficNode>();
  private readonly acc = new Map<string, Accumulator>();

  node(n: TrafficNode): string {
    if (!this.nodes.has(n.id)) this.nodes.set(n.id, n);
    return n.id;
  }

  get(protocol: Protocol, from: string, to: string, viaWaypoint = false): Accumulator {
    const key = `${protocol}|${from}|${to}|${viaWaypoint}`;
    let a = this.acc.get(key);
    if (a === undefined) this.acc.set(key, (a = { from, to, protocol, viaWaypoint, rate: 0, errorRate: 0, total: 0, buckets: new Map() }));
    return a;
  }

  edges(): TrafficEdge[] {
    const http = new Set([...this.acc.values()].filter((a) => a.protocol === 'http').map((a) => `${a.from}|${a.to}`));
    // Connections to a waypoint: dropped beside its HTTP edge, else counted with the direct ones.
    for (const a of [...this.acc.values()].filter((x) => x.viaWaypoint)) {
      if (http.has(`${a.from}|${a.to}`)) continue;
      const direct = this.get('tcp', a.from, a.to);
      direct.rate += a.rate;
      direct.errorRate += a.errorRate;
      direct.total += a.total;
    }
    const out: TrafficEdge[] = [];
    for (const a of this.acc.values()) {
      if (a.total <= 0 || a.viaWaypoint) continue;
      const p99 = a.protocol === 'http' ? histogramQuantile(0.99, a.buckets) : undefined;
      out.push({
        from: a.from,
        to: a.to,
        protocol: a.protocol,
        rps: a.rate,
        errorRate: a.rate > 0 ? Math.min(1, a.errorRate / a.rate) : null,
        p99Ms: p99 ?? null,
        total: a.total,
      });
    }
    return out.sort((x, y) => x.from.localeCompare(y.from) || x.to.localeCompare(y.to) || x.protocol.localeCompare(y.protocol));
  }
}

/**
 * The hops one series describes, [caller, service, server] reduced to its known parts, and
 * whether it went to a waypoint. Nothing for traffic with neither end in the mesh.
 */
function hops(edges: EdgeSet, labels: Readonly<Record<string, string>>, isWaypoint: TrafficInput['isWaypoint']): { hops: Array<[string, string]>; viaWaypoint: boolean } | undefined {
  const l = labels;
  const src = known(l.source_workload) && known(l.source_workload_namespace)
    ? edges.node({ id: workloadNodeId(l.source_workload_namespace, l.source_workload), kind: 'workload', namespace: l.source_workload_namespace, name: l.source_workload })
    : edges.node(OUTSIDE);
  const dstKnown = known(l.destination_workload) && known(l.destination_workload_namespace);
  const dstIsWaypoint = dstKnown && isWaypoint(l.destination_workload_namespace, l.destination_workload);
  const dst = dstKnown && !dstIsWaypoint
    ? edges.node({ id: workloadNodeId(l.destination_workload_namespace, l.destination_workload), kind: 'workload', namespace: l.destination_workload_namespace, name: l.destination_workload })
    : undefined;
  if (known(l.destination_service_name) && known(l.destination_service_namespace)) {
    const svc = edges.node({ id: serviceNodeId(l.destination_service_namespace, l.destination_service_name), kind: 'service', namespace: l.destination_service_namespace, name: l.destination_service_name });
    return { hops: dst !== undefined ? [[src, svc], [svc, dst]] : [[src, svc]], viaWaypoint: dstIsWaypoint };
  }
  if (dstIsWaypoint || (dst === undefined && src === OUTSIDE.id)) return undefined;
  return { hops: [[src, dst ?? edges.node(OUTSIDE)]], viaWaypoint: false };
}

const isServerError = (code: string | undefined): boolean => code !== undefined && /^5\d\d$/.test(code);

/** Series of one L4 connection, counted once (see the file comment). */
const countsL4 = (l: Readonly<Record<string, string>>): boolean =>
  l.reporter === 'source' || (l.reporter === 'destination' && !known(l.source_workload));

export function trafficEdges(input: TrafficInput): { nodes: Map<string, TrafficNode>; edges: TrafficEdge[] } {
  const edges = new EdgeSet();
  const bucketName = `${TRAFFIC_METRICS.duration}_bucket`;
  const wanted = new Set<string>([TRAFFIC_METRICS.requests, bucketName, TRAFFIC_METRICS.tcpOpened, TRAFFIC_METRICS.tcpFailed]);
  for (const w of input.windows) {
    const seconds = w.seconds > 0 ? w.seconds : Infinity;
    for (const { sample, increase } of increases(w, wanted)) {
      const l = sample.labels;
      const http = sample.name === TRAFFIC_METRICS.requests || sample.name === bucketName;
      if (http ? l.reporter !== 'waypoint' : !countsL4(l)) continue;
      const path = hops(edges, l, input.isWaypoint);
      for (const [from, to] of path?.hops ?? []) addSample(edges.get(http ? 'http' : 'tcp', from, to, !http && path!.viaWaypoint), sample, increase, seconds);
    }
  }
  return { nodes: edges.nodes, edges: edges.edges() };
}

function addSample(a: Accumulator, sample: Sample, increase: number, seconds: number): void {
  switch (sample.name) {
    case TRAFFIC_METRICS.requests:
    case TRAFFIC_METRICS.tcpOpened:
      a.rate += increase / seconds;
      a.total += sample.value;
      if (sample.name === TRAFFIC_METRICS.requests && isServerError(sample.labels.response_code)) a.errorRate += increase / seconds;
      return;
    case TRAFFIC_METRICS.tcpFailed:
      a.errorRate += increase / seconds;
      return;
    default: {
      const le = bucketBound(sample.labels.le);
      if (le !== undefined) a.buckets.set(le, (a.buckets.get(le) ?? 0) + increase);
    }
  }
}
