/**
 * The metric families the dashboard reads. They are Istio's standard names (a contract with
 * Kiali and Grafana, so written out here rather than imported from the agent and the waypoint);
 * test/unit/dashboard-graph.test.ts checks they equal what those programs export.
 */

export const TRAFFIC_METRICS = {
  /** Agent, per connection (reporter source / destination). */
  tcpOpened: 'istio_tcp_connections_opened_total',
  /** Agent: connections closed with a response flag other than "-". */
  tcpFailed: 'istio_tcp_connections_failed_total',
  /** Waypoint, per request (reporter waypoint). */
  requests: 'istio_requests_total',
  /** Waypoint request duration histogram (ms); the dashboard reads its _bucket series. */
  duration: 'istio_request_duration_milliseconds',
} as const;

/** The agent's node resource gauges (agent/telemetry/node-resources.ts). */
export const NODE_GAUGES = {
  cpuUtilization: 'ambit_node_cpu_utilization',
  memoryUsed: 'ambit_node_memory_used_bytes',
  memoryTotal: 'ambit_node_memory_total_bytes',
  load1: 'ambit_node_load1',
} as const;

/** Process metrics of the scraped program (prom-client's defaults; the waypoint prefixes them). */
export const PROCESS_METRICS = {
  rss: ['process_resident_memory_bytes', 'ambit_waypoint_process_resident_memory_bytes'],
  cpuSeconds: ['process_cpu_seconds_total', 'ambit_waypoint_process_cpu_seconds_total'],
} as const;

const WANTED = new Set<string>([
  TRAFFIC_METRICS.tcpOpened,
  TRAFFIC_METRICS.tcpFailed,
  TRAFFIC_METRICS.requests,
  `${TRAFFIC_METRICS.duration}_bucket`,
  ...Object.values(NODE_GAUGES),
  ...PROCESS_METRICS.rss,
  ...PROCESS_METRICS.cpuSeconds,
]);

/** Whether a scraped sample name is one the dashboard keeps. */
export const isDashboardMetric = (name: string): boolean => WANTED.has(name);
