/**
 * The document /dashboard/api/graph serves: nodes (workloads, services, "outside the mesh") with
 * their positions and details, traffic edges with rps / error rate / p99, and the proxies table.
 * Pure: built from the inventory (the model), the scrape windows and the scraped targets.
 */
import { layoutGraph } from './graph-layout';
import { proxyRows, type ProxyRow, type ScrapedTarget } from './proxy-health';
import type { ScrapeWindow } from './series-math';
import { trafficEdges, type TrafficEdge, type TrafficNode } from './traffic-edges';
import type { Inventory, ServiceView, WorkloadView } from './workload-inventory';

export interface GraphNode extends TrafficNode {
  readonly x: number;
  readonly y: number;
  readonly layer: number;
  readonly workload?: WorkloadView;
  readonly service?: ServiceView;
}

export interface GraphDocument {
  readonly generatedAt: string;
  readonly scrape: { readonly intervalMs: number; readonly windowMs: number; readonly targets: number; readonly healthy: number };
  readonly layout: { readonly width: number; readonly height: number; readonly nodeWidth: number; readonly nodeHeight: number };
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly TrafficEdge[];
  readonly proxies: readonly ProxyRow[];
  /** Nodes without traffic left out to keep a large mesh readable. */
  readonly hiddenIdleNodes: number;
}

export interface GraphInputs {
  readonly inventory: Inventory;
  readonly windows: readonly ScrapeWindow[];
  readonly targets: readonly ScrapedTarget[];
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly now: Date;
  /** At most this many nodes are drawn: every node with traffic, then idle ones. */
  readonly maxNodes?: number;
  /**
   * When each edge last had traffic, kept by the caller across documents (updated here). An idle
   * edge is drawn for `idleEdgeMs` after that, then dropped; one never seen live is not drawn
   * (counters from before the dashboard was opened, e.g. a pod's start-up, are history).
   */
  readonly lastLive?: Map<string, number>;
  readonly idleEdgeMs?: number;
}

const edgeKey = (e: TrafficEdge): string => `${e.protocol}|${e.from}|${e.to}`;

function recentEdges(edges: readonly TrafficEdge[], inputs: GraphInputs): TrafficEdge[] {
  const { lastLive } = inputs;
  if (lastLive === undefined) return [...edges];
  const now = inputs.now.getTime();
  const ttl = inputs.idleEdgeMs ?? 5 * 60_000;
  for (const e of edges) if (e.rps > 0) lastLive.set(edgeKey(e), now);
  for (const [k, at] of lastLive) if (now - at > ttl) lastLive.delete(k);
  return edges.filter((e) => lastLive.has(edgeKey(e)));
}

export function buildGraphDocument(inputs: GraphInputs): GraphDocument {
  const { inventory } = inputs;
  const traffic = trafficEdges({ windows: inputs.windows, isWaypoint: inventory.isWaypoint });
  const edges = recentEdges(traffic.edges, inputs);
  const withTraffic = new Set(edges.flatMap((e) => [e.from, e.to]));
  const nodes = new Map<string, TrafficNode & { workload?: WorkloadView; service?: ServiceView }>([...traffic.nodes].filter(([id]) => withTraffic.has(id)));
  for (const w of inventory.workloads) nodes.set(w.id, { id: w.id, kind: 'workload', namespace: w.namespace, name: w.name, workload: w });
  for (const s of inventory.services) nodes.set(s.id, { id: s.id, kind: 'service', namespace: s.namespace, name: s.name, service: s });

  const idle = [...nodes.keys()].filter((id) => !withTraffic.has(id)).sort();
  const room = Math.max(0, (inputs.maxNodes ?? 80) - withTraffic.size);
  const shown = [...withTraffic, ...idle.slice(0, room)];
  const layout = layoutGraph(shown, edges);

  return {
    generatedAt: inputs.now.toISOString(),
    scrape: {
      intervalMs: inputs.intervalMs,
      windowMs: inputs.windowMs,
      targets: inputs.targets.filter((t) => t.connected).length,
      healthy: inputs.targets.filter((t) => t.healthy).length,
    },
    layout: { width: layout.width, height: layout.height, nodeWidth: layout.nodeWidth, nodeHeight: layout.nodeHeight },
    nodes: shown.map((id) => ({ ...nodes.get(id)!, ...layout.positions[id] })),
    edges,
    proxies: proxyRows(inputs.targets, inventory.nodes),
    hiddenIdleNodes: idle.length - Math.min(idle.length, room),
  };
}
