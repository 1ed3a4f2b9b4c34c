// The dashboard's graph from two scrapes of the metrics text the agent and the waypoint really
// render (their own prom-client registries and label builders), over a model built from Kubernetes
// objects: edges with rps / error rate / p99, counted once, nodes with identities and policies,
// a layered layout, and the proxies table.
import { createAgentMetrics, ISTIO_TCP_METRICS } from '../../agent/telemetry/metrics';
import { connectionLabels, type ConnectionLabels } from '../../agent/telemetry/connection-labels';
import { NODE_METRICS } from '../../agent/telemetry/node-resources';
import type { Service__Output } from '../../common/proto/generated/ambit/v1/Service';
import type { Workload__Output } from '../../common/proto/generated/ambit/v1/Workload';
import { buildGraphDocument } from '../../control-plane/dashboard/graph-document';
import { layoutGraph } from '../../control-plane/dashboard/graph-layout';
import { NODE_GAUGES, TRAFFIC_METRICS } from '../../control-plane/dashboard/metric-names';
import { parsePrometheusText, type Sample } from '../../common/telemetry/prometheus-text';
import { proxyRows } from '../../control-plane/dashboard/proxy-health';
import type { ScrapeWindow } from '../../control-plane/dashboard/series-math';
import { trafficEdges, type TrafficEdge } from '../../control-plane/dashboard/traffic-edges';
import { buildInventory } from '../../control-plane/dashboard/workload-inventory';
import { MeshModel } from '../../control-plane/model/mesh-model';
import { ISTIO_REQUEST_METRICS, RequestMetrics, requestLabels } from '../../waypoint/telemetry/request-metrics';
import { Registry } from 'prom-client';
import { authorizationPolicy, namespace, object, pod, service, waypointGateway } from '../support/kube-fixtures';

const GATEWAY_LABEL = 'gateway.networking.k8s.io/gateway-name';

function meshModel(): MeshModel {
  const model = new MeshModel();
  const sink = model.sinkFor('test');
  sink.apply({
    upsert: [
      namespace('shop', { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'waypoint' }),
      namespace('data', { 'istio.io/dataplane-mode': 'ambient' }),
      waypointGateway('waypoint', 'shop'),
      service('waypoint', { namespace: 'shop', selector: { [GATEWAY_LABEL]: 'waypoint' }, clusterIP: '10.96.0.2', ports: [{ name: 'mesh', port: 15008 }] }),
      pod('waypoint-0', { namespace: 'shop', ip: '10.0.2.2', node: 'node2', labels: { [GATEWAY_LABEL]: 'waypoint' }, serviceAccount: 'waypoint' }),
      pod('client', { namespace: 'shop', ip: '10.0.1.5', labels: { app: 'client' }, serviceAccount: 'client' }),
      pod('web-v1', { namespace: 'shop', ip: '10.0.1.6', labels: { app: 'web', version: 'v1' }, serviceAccount: 'web' }),
      pod('web-v2', { namespace: 'shop', ip: '10.0.2.6', node: 'node2', labels: { app: 'web', version: 'v2' }, serviceAccount: 'web' }),
      service('web', { namespace: 'shop', clusterIP: '10.96.0.10' }),
      pod('batch', { namespace: 'shop', ip: '10.0.1.7', labels: { app: 'batch' }, serviceAccount: 'batch' }),
      pod('cache', { namespace: 'shop', ip: '10.0.2.7', node: 'node2', labels: { app: 'cache' }, serviceAccount: 'cache' }),
      service('cache', { namespace: 'shop', clusterIP: '10.96.0.11', ports: [{ name: 'tcp-redis', port: 6379, targetPort: 6379 }] }),
      pod('db', { namespace: 'data', ip: '10.0.2.9', node: 'node2', labels: { app: 'db' }, serviceAccount: 'db' }),
      service('db', { namespace: 'data', clusterIP: '10.96.0.20', ports: [{ name: 'tcp', port: 5432, targetPort: 5432 }] }),
      authorizationPolicy('allow-web', 'shop', { selector: { matchLabels: { app: 'web' } }, action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['shop'] } }] }] }),
      authorizationPolicy('web-l7', 'shop', { targetRefs: [{ kind: 'Service', group: '', name: 'web' }], action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] }),
      object('PeerAuthentication', 'security.istio.io/v1', 'strict', 'data', { mtls: { mode: 'STRICT' } }),
    ],
    remove: [],
  });
  sink.synced();
  return model;
}

const wl = (m: MeshModel, ns: string, name: string): Workload__Output => m.resources.get(`WORKLOAD:Kubernetes//Pod/${ns}/${name}`)!.resource.workload as Workload__Output;
const svc = (m: MeshModel, ns: string, name: string): Service__Output => m.resources.get(`SERVICE:${ns}/${name}`)!.resource.service as Service__Output;

/** One proxy's real registry, scraped twice with traffic in between. */
async function twoScrapes(registry: Registry, before: () => void, between: () => void, seconds = 10): Promise<ScrapeWindow> {
  before();
  const first = parsePrometheusText(await registry.metrics());
  between();
  const last = parsePrometheusText(await registry.metrics());
  return { first, last, seconds };
}

async function windows(m: MeshModel): Promise<ScrapeWindow[]> {
  // The waypoint: client -> web, answered by web-v1 (fast) and web-v2 (slow, half 503).
  const registry = new Registry();
  const requests = new RequestMetrics(registry);
  const req = (dst: string, code: number) =>
    requestLabels({ source: wl(m, 'shop', 'client'), destination: wl(m, 'shop', dst), destinationService: svc(m, 'shop', 'web'), grpc: false, responseCode: code, responseFlags: '-', mtls: true });
  const waypoint = await twoScrapes(
    registry,
    () => {
      for (let i = 0; i < 10; i++) requests.observe(req('web-v1', 200), 2, 0, 10);
    },
    () => {
      for (let i = 0; i < 30; i++) requests.observe(req('web-v1', 200), 20, 0, 10);
      for (let i = 0; i < 5; i++) requests.observe(req('web-v2', 200), 40, 0, 10);
      for (let i = 0; i < 5; i++) requests.observe(req('web-v2', 503), 300, 0, 10);
    },
  );

  // node1's agent: client's connections (to the waypoint for web, straight to db).
  const a1 = createAgentMetrics({ processMetrics: false });
  const toWaypoint = connectionLabels({ reporter: 'source', source: wl(m, 'shop', 'client'), destination: wl(m, 'shop', 'waypoint-0'), destinationService: svc(m, 'shop', 'web'), security: 'mutual_tls' });
  const toDb = connectionLabels({ reporter: 'source', source: wl(m, 'shop', 'client'), destination: wl(m, 'data', 'db'), destinationService: svc(m, 'data', 'db'), security: 'mutual_tls' });
  const failed = (l: ConnectionLabels) => ({ ...l, response_flags: 'UF' });
  // TCP through the waypoint (it reports nothing for TCP), and batch -> web-v1 by pod IP (direct).
  const toCache = connectionLabels({ reporter: 'source', source: wl(m, 'shop', 'client'), destination: wl(m, 'shop', 'waypoint-0'), destinationService: svc(m, 'shop', 'cache'), security: 'mutual_tls' });
  const direct = connectionLabels({ reporter: 'source', source: wl(m, 'shop', 'batch'), destination: wl(m, 'shop', 'web-v1'), destinationService: svc(m, 'shop', 'web'), security: 'mutual_tls' });
  const node1 = await twoScrapes(
    a1.registry,
    () => {
      a1.opened.inc(toWaypoint, 10);
      a1.opened.inc(toDb, 5);
    },
    () => {
      a1.opened.inc(toWaypoint, 40);
      a1.opened.inc(toDb, 20);
      a1.failed.inc(failed(toDb), 2);
      a1.opened.inc(toCache, 30);
      a1.opened.inc(direct, 10);
    },
  );

  // node2's agent: the same connections seen by the destination (not counted again), the
  // waypoint's hop to web-v2 (described by the waypoint's metrics), and callers outside the mesh.
  const a2 = createAgentMetrics({ processMetrics: false });
  const seenByDb = connectionLabels({ reporter: 'destination', source: wl(m, 'shop', 'client'), destination: wl(m, 'data', 'db'), destinationService: svc(m, 'data', 'db'), security: 'mutual_tls' });
  const fromWaypoint = connectionLabels({ reporter: 'destination', source: wl(m, 'shop', 'waypoint-0'), destination: wl(m, 'shop', 'web-v2'), security: 'mutual_tls' });
  const fromOutside = connectionLabels({ reporter: 'destination', destination: wl(m, 'data', 'db'), security: 'none' });
  const node2 = await twoScrapes(
    a2.registry,
    () => undefined,
    () => {
      a2.opened.inc(seenByDb, 20);
      a2.opened.inc(fromWaypoint, 10);
      a2.opened.inc(fromOutside, 10);
    },
  );
  return [waypoint, node1, node2];
}

const find = (edges: readonly TrafficEdge[], from: string, to: string): TrafficEdge | undefined => edges.find((e) => e.from === from && e.to === to);

describe('dashboard metric names', () => {
  it('are the names the agent and the waypoint export', () => {
    expect(TRAFFIC_METRICS.tcpOpened).toBe(ISTIO_TCP_METRICS.opened);
    expect(TRAFFIC_METRICS.tcpFailed).toBe(ISTIO_TCP_METRICS.failed);
    expect(TRAFFIC_METRICS.requests).toBe(ISTIO_REQUEST_METRICS.requests);
    expect(TRAFFIC_METRICS.duration).toBe(ISTIO_REQUEST_METRICS.duration);
    expect(NODE_GAUGES).toEqual({ cpuUtilization: NODE_METRICS.cpuUtilization, memoryUsed: NODE_METRICS.memoryUsed, memoryTotal: NODE_METRICS.memoryTotal, load1: NODE_METRICS.load1 });
  });
});

describe('trafficEdges', () => {
  let model: MeshModel;
  let edges: TrafficEdge[];

  beforeAll(async () => {
    model = meshModel();
    const inventory = buildInventory(model.resources, 'istio-system');
    edges = trafficEdges({ windows: await windows(model), isWaypoint: inventory.isWaypoint }).edges;
  });

  it('draws HTTP edges caller -> service -> workloads from the waypoint, with rps, 5xx share and p99', () => {
    const toWeb = find(edges, 'wl:shop/client', 'svc:shop/web')!;
    expect(toWeb).toMatchObject({ protocol: 'http', total: 50 });
    expect(toWeb.rps).toBeCloseTo(4, 10); // 40 requests in 10 s; the 10 before the window do not count
    expect(toWeb.errorRate).toBeCloseTo(5 / 40, 10);
    // 30 in (10,25], 5 in (25,50], 5 in (250,500]: rank 39.6 lies in (250,500], 4.6 of its 5.
    expect(toWeb.p99Ms).toBeCloseTo(250 + (250 * 4.6) / 5, 6);

    const v1 = find(edges, 'svc:shop/web', 'wl:shop/web-v1')!;
    expect(v1.rps).toBeCloseTo(3, 10);
    expect(v1.errorRate).toBe(0);
    expect(v1.p99Ms).toBeCloseTo(10 + (15 * 29.7) / 30, 6);
    const v2 = find(edges, 'svc:shop/web', 'wl:shop/web-v2')!;
    expect(v2.rps).toBeCloseTo(1, 10);
    expect(v2.errorRate).toBeCloseTo(0.5, 10);
  });

  it('draws TCP edges from the agents, each connection once, failures as the error rate, no p99', () => {
    const toDb = find(edges, 'wl:shop/client', 'svc:data/db')!;
    expect(toDb).toMatchObject({ protocol: 'tcp', p99Ms: null, total: 25 });
    expect(toDb.rps).toBeCloseTo(2, 10); // the destination agent's 20 are the same connections
    expect(toDb.errorRate).toBeCloseTo(0.1, 10);
    expect(find(edges, 'svc:data/db', 'wl:data/db')!.rps).toBeCloseTo(2, 10);
    const outside = find(edges, 'ext:outside', 'wl:data/db')!;
    expect(outside).toMatchObject({ protocol: 'tcp' });
    expect(outside.rps).toBeCloseTo(1, 10);
  });

  it('makes no edge of a hop to or from a waypoint, nor of the connections carrying its HTTP requests', () => {
    expect(edges.filter((e) => e.from.includes('waypoint') || e.to.includes('waypoint'))).toEqual([]);
    expect(edges.filter((e) => e.from === 'wl:shop/client' && e.to === 'svc:shop/web').map((e) => e.protocol)).toEqual(['http']);
  });

  it('keeps TCP through a waypoint, and direct connections beside an HTTP edge', () => {
    const cache = find(edges, 'wl:shop/client', 'svc:shop/cache')!;
    expect(cache).toMatchObject({ protocol: 'tcp', total: 30 });
    expect(cache.rps).toBeCloseTo(3, 10);
    expect(find(edges, 'wl:shop/batch', 'svc:shop/web')!.rps).toBeCloseTo(1, 10);
    const toV1 = edges.filter((e) => e.from === 'svc:shop/web' && e.to === 'wl:shop/web-v1');
    expect(toV1.map((e) => [e.protocol, Math.round(e.rps * 1000) / 1000])).toEqual([['http', 3], ['tcp', 1]]);
    expect(edges).toHaveLength(9);
  });
});

describe('buildGraphDocument', () => {
  it('lays callers left of callees and describes workloads with identity and the policies that apply', async () => {
    const model = meshModel();
    const doc = buildGraphDocument({
      inventory: buildInventory(model.resources, 'istio-system'),
      windows: await windows(model),
      targets: [],
      intervalMs: 2000,
      windowMs: 10000,
      now: new Date('2025-01-01T00:00:00Z'),
    });
    const node = (id: string) => doc.nodes.find((n) => n.id === id)!;
    expect(node('wl:shop/client').layer).toBe(0);
    expect(node('svc:shop/web').layer).toBe(1);
    expect(node('wl:shop/web-v1').layer).toBe(2);
    expect(node('wl:shop/web-v1').x).toBeGreaterThan(node('svc:shop/web').x);
    expect(node('svc:shop/web').x).toBeGreaterThan(node('wl:shop/client').x);
    expect(doc.nodes.map((n) => n.id)).not.toContain('svc:shop/waypoint'); // the waypoint's own Service
    expect(doc.nodes.map((n) => n.id)).not.toContain('wl:shop/waypoint-0');

    const web = node('wl:shop/web-v1').workload!;
    expect(web.identities).toEqual(['spiffe://cluster.local/ns/shop/sa/web']);
    expect(web.waypoint).toBeUndefined(); // the waypoint takes service traffic (waypoint-for default)
    expect(web.policies).toEqual([
      { kind: 'AuthorizationPolicy', name: 'shop/allow-web', effect: 'ALLOW, enforced by the node agent' },
      { kind: 'AuthorizationPolicy', name: 'shop/web-l7', effect: 'DENY, enforced by the waypoint' },
    ]);
    expect(node('wl:data/db').workload!.policies).toEqual([{ kind: 'PeerAuthentication', name: 'data/strict', effect: 'STRICT (namespace-wide)' }]);
    expect(node('wl:shop/client').workload!.policies).toEqual([]);
    expect(node('svc:shop/web').service).toMatchObject({ hostname: 'web.shop.svc.cluster.local', addresses: ['10.96.0.10'], waypoint: 'shop/waypoint', endpoints: 2 });
    expect(doc.proxies.map((p) => [p.name, p.status])).toEqual([['node1', 'no agent'], ['node2', 'no agent']]);
  });
});

describe('layoutGraph', () => {
  it('breaks cycles and puts nodes without traffic in a grid below', () => {
    const l = layoutGraph(['a', 'b', 'c', 'idle'], [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'a' }]);
    expect([l.positions.a.layer, l.positions.b.layer, l.positions.c.layer]).toEqual([0, 1, 2]);
    expect(l.positions.idle.layer).toBe(-1);
    expect(l.positions.idle.y).toBeGreaterThan(l.positions.a.y);
    expect(l.width).toBeGreaterThanOrEqual(l.positions.c.x + l.nodeWidth);
  });
});

describe('proxyRows', () => {
  const at = Date.parse('2025-01-01T00:00:00Z');
  const sample = (name: string, value: number): Sample => ({ name, labels: {}, value });
  it('reports health, resources from the newest scrape and nodes without an agent', () => {
    const rows = proxyRows(
      [
        {
          target: { kind: 'agent', target: 'node1', metricsUrl: 'http://127.1.2.1:15020/metrics', connectedAt: new Date(at - 60_000) },
          connected: true,
          healthy: true,
          lastSuccessAt: at,
          first: { at: at - 10_000, samples: [sample('process_cpu_seconds_total', 1.0)] },
          last: {
            at,
            samples: [sample(NODE_GAUGES.cpuUtilization, 0.25), sample(NODE_GAUGES.memoryUsed, 2e9), sample(NODE_GAUGES.memoryTotal, 8e9), sample(NODE_GAUGES.load1, 0.5), sample('process_resident_memory_bytes', 9e7), sample('process_cpu_seconds_total', 1.5)],
          },
        },
        {
          target: { kind: 'waypoint', target: 'shop/waypoint', metricsUrl: 'http://10.0.2.2:15020/metrics', connectedAt: new Date(at) },
          connected: true,
          healthy: false,
          lastError: 'connect ECONNREFUSED',
        },
      ],
      ['node1', 'node2'],
    );
    expect(rows.map((r) => [r.kind, r.name, r.status, r.detail])).toEqual([
      ['agent', 'node1', 'healthy', undefined],
      ['agent', 'node2', 'no agent', 'pods run on this node but no agent is connected'],
      ['waypoint', 'shop/waypoint', 'unhealthy', 'connect ECONNREFUSED'],
    ]);
    expect(rows[0].resources).toEqual({ nodeCpu: 0.25, nodeMemoryUsedBytes: 2e9, nodeMemoryTotalBytes: 8e9, nodeLoad1: 0.5, processRssBytes: 9e7, processCpu: 0.05 });
  });
});
