// `ambit status` and `ambit waypoint list` as the terminal shows them, and the small parsers they
// rest on (Prometheus text, config versions, which waypoint a label names).
import { bytes, duration, renderMeshStatus } from '../../cli/cluster/mesh-status-view';
import { newestVersion, type MeshStatus } from '../../cli/cluster/mesh-status';
import { metricSum, parsePrometheusText } from '../../common/telemetry/prometheus-text';
import type { ClusterView } from '../../cli/cluster/target';
import { renderWaypoints, waypointRows } from '../../cli/waypoint/waypoint-list-view';
import { podWaypoint, serviceWaypoint, usersOf } from '../../cli/waypoint/waypoint-usage';

const VIEW: ClusterView = {
  namespaces: [
    { name: 'shop', labels: { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'waypoint' }, hasObject: true },
    { name: 'guest', labels: { 'istio.io/use-waypoint': 'waypoint', 'istio.io/use-waypoint-namespace': 'shop' }, hasObject: true },
  ],
  pods: [
    { namespace: 'shop', name: 'web', labels: { app: 'web' }, node: 'node2', ips: ['198.18.2.10'], phase: 'Running', ready: true, enrolled: 'enrolled' },
    { namespace: 'shop', name: 'waypoint-0', labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' }, node: 'node1', ips: ['198.18.1.11'], phase: 'Running', ready: true, enrolled: 'not ambient' },
    { namespace: 'shop', name: 'batch', labels: { 'istio.io/use-waypoint': 'none' }, node: 'node1', ips: ['198.18.1.12'], phase: 'Running', ready: false, enrolled: 'enrolled' },
  ],
  services: [
    { namespace: 'shop', name: 'web', labels: {}, clusterIP: '198.19.0.10' },
    { namespace: 'shop', name: 'waypoint', labels: {}, clusterIP: '198.19.0.11' },
    { namespace: 'shop', name: 'legacy', labels: { 'istio.io/use-waypoint': 'none' }, clusterIP: '198.19.0.12' },
    { namespace: 'other', name: 'api', labels: { 'istio.io/use-waypoint': 'waypoint', 'istio.io/use-waypoint-namespace': 'shop' }, clusterIP: '198.19.0.13' },
  ],
  gateways: [
    { namespace: 'shop', name: 'waypoint', className: 'ambit-waypoint', labels: { 'istio.io/waypoint-for': 'service' }, file: 'ambit-waypoint-shop-waypoint.yaml' },
    { namespace: 'shop', name: 'ingress', className: 'nginx', labels: {} },
  ],
};

describe('which waypoint labels name (as the control plane resolves them)', () => {
  it('binds services through their namespace, honours "none" and never binds the waypoint\'s own Service', () => {
    const svc = (ns: string, name: string) => serviceWaypoint(VIEW, ns, name, VIEW.services.find((s) => s.name === name)!.labels);
    expect(svc('shop', 'web')).toEqual({ namespace: 'shop', name: 'waypoint' });
    expect(svc('shop', 'legacy')).toBeUndefined();
    expect(svc('shop', 'waypoint')).toBeUndefined();
    expect(svc('other', 'api')).toEqual({ namespace: 'shop', name: 'waypoint' });
  });

  it('a service waypoint takes no workload-addressed traffic', () => {
    expect(podWaypoint(VIEW, VIEW.pods[0])).toBeUndefined();
    const all = { ...VIEW, gateways: [{ ...VIEW.gateways[0], labels: { 'istio.io/waypoint-for': 'all' } }] };
    expect(podWaypoint(all, VIEW.pods[0])).toEqual({ namespace: 'shop', name: 'waypoint' });
    expect(podWaypoint(all, VIEW.pods[1])).toBeUndefined(); // a waypoint's own pod
    expect(podWaypoint(all, VIEW.pods[2])).toBeUndefined(); // use-waypoint: none
  });

  it('lists what uses a waypoint: namespaces (also from another namespace) and labelled services', () => {
    expect(usersOf(VIEW, { namespace: 'shop', name: 'waypoint' })).toEqual(['ns:shop', 'ns:guest', 'svc:other/api']);
  });
});

describe('waypoint list', () => {
  it('shows waypoint-class Gateways only, with readiness, address and users', () => {
    expect(renderWaypoints(waypointRows(VIEW))).toEqual([
      'WAYPOINT       FOR      READY  ADDRESS            USED BY',
      'shop/waypoint  service  1/1    198.19.0.11:15008  ns:shop ns:guest svc:other/api',
    ]);
    expect(waypointRows(VIEW, 'guest')).toEqual([]);
  });
});

const STATUS: MeshStatus = {
  target: 'local runtime (pid 42, directory /demo)',
  controlPlane: {
    state: 'running',
    grpcAddress: '127.0.0.1:15012',
    httpAddress: 'http://127.0.0.1:15014',
    ready: true,
    configVersion: 'ab12-7',
    clients: [
      { kind: 'agent', node: 'node1' },
      { kind: 'agent', node: 'node2' },
      { kind: 'waypoint', waypoint: 'shop/waypoint' },
    ],
  },
  agents: [
    {
      node: 'node1',
      running: true,
      pid: 4301,
      restarts: 0,
      admin: 'http://127.17.146.1:15000',
      ready: true,
      uptimeSeconds: 754,
      enrolledPods: 1,
      cpuSeconds: 2.345,
      rssBytes: 90 * 1024 * 1024,
      nodeCpuUtilization: 0.125,
      nodeMemoryUsedBytes: 3.5 * 1024 ** 3,
      nodeMemoryTotalBytes: 16 * 1024 ** 3,
    },
    { node: 'node2', running: false, restarts: 2, admin: 'http://127.17.146.2:15000' },
  ],
  waypoints: waypointRows(VIEW),
  pods: [{ namespace: 'shop', name: 'web', node: 'node2', ips: ['198.18.2.10', 'fd00:a3b1:2::10'], phase: 'Running', ready: true, enrolled: 'enrolled', waypoint: 'shop/waypoint', waypointFor: 'service' }],
};

describe('ambit status (tables)', () => {
  it('renders the control plane, agents with resources, waypoints and pods', () => {
    expect(renderMeshStatus(STATUS)).toEqual([
      'cluster: local runtime (pid 42, directory /demo)',
      'control plane: ready, gRPC 127.0.0.1:15012, status http://127.0.0.1:15014, config version ab12-7, clients: 2 agents, 1 waypoint',
      '',
      'NODE   AGENT                    READY  UPTIME  PODS  AGENT CPU  AGENT MEM  NODE CPU  NODE MEM          ADMIN',
      'node1  pid 4301                 yes    13m     1     2.3s       90.0 MiB   13%       3.5 GiB/16.0 GiB  http://127.17.146.1:15000',
      'node2  restarting (2 restarts)  -      -       -     -          -          -         -                 http://127.17.146.2:15000',
      '',
      'WAYPOINT       FOR      READY  ADDRESS            USED BY',
      'shop/waypoint  service  1/1    198.19.0.11:15008  ns:shop ns:guest svc:other/api',
      '',
      'POD       NODE   IP           READY  ENROLLED  WAYPOINT',
      'shop/web  node2  198.18.2.10  yes    enrolled  shop/waypoint (service)',
    ]);
  });

  it('says what is wrong with a control plane or an agent that does not answer', () => {
    const lines = renderMeshStatus({
      ...STATUS,
      controlPlane: { ...STATUS.controlPlane, ready: false, readiness: 'not ready: sources-synced' },
      agents: [{ ...STATUS.agents[0], ready: false, readiness: 'not ready\nconfig: no version yet' }, { ...STATUS.agents[0], node: 'node2', error: 'http://127.17.146.2:15021/healthz/ready did not answer (ECONNREFUSED)' }],
    });
    expect(lines[1]).toMatch(/^control plane: NOT READY \(not ready: sources-synced\)/);
    expect(lines).toContain('agent on node1 not ready: not ready; config: no version yet');
    expect(lines).toContain('agent on node2: http://127.17.146.2:15021/healthz/ready did not answer (ECONNREFUSED)');
  });

  it('formats durations and sizes like kubectl', () => {
    expect([duration(59), duration(754), duration(7300), duration(200_000), duration(undefined)]).toEqual(['59s', '13m', '2h', '2d', '-']);
    expect([bytes(512), bytes(1536), bytes(300 * 1024 * 1024)]).toEqual(['512 B', '1.5 KiB', '300 MiB']);
  });
});

describe('parsers', () => {
  it('reads prom-client text: sums series, skips comments, unescapes labels', () => {
    const m = parsePrometheusText(
      [
        '# HELP ambit_agent_enrolled_pods Pods enrolled',
        '# TYPE ambit_agent_enrolled_pods gauge',
        'ambit_agent_enrolled_pods 3',
        'process_cpu_seconds_total 1.5',
        'istio_tcp_connections_opened_total{reporter="source",destination_workload="a\\"b"} 4',
        'istio_tcp_connections_opened_total{reporter="destination"} 6',
        'ambit_node_load1 +Inf',
      ].join('\n'),
    );
    expect(metricSum(m, 'ambit_agent_enrolled_pods')).toBe(3);
    expect(metricSum(m, 'istio_tcp_connections_opened_total')).toBe(10);
    expect(m.find((s) => s.name === 'istio_tcp_connections_opened_total')!.labels).toEqual({ reporter: 'source', destination_workload: 'a"b' });
    expect(metricSum(m, 'ambit_node_load1')).toBe(Infinity);
    expect(metricSum(m, 'missing')).toBeUndefined();
  });

  it('picks the newest config version by its counter, not as text', () => {
    expect(newestVersion(['ab12-9', 'ab12-10', '', 'ab12-2'])).toBe('ab12-10');
    expect(newestVersion(['', ''])).toBeUndefined();
  });
});
