/**
 * The agent's Prometheus metrics on its own prom-client Registry (never the global one: several
 * agents in one process, as in tests or `ambit local`, must not collide).
 *
 * Istio's standard TCP families, labelled as in connection-labels.ts, so Istio dashboards work:
 *   istio_tcp_connections_opened_total   every connection the agent accepted and began to handle
 *   istio_tcp_connections_closed_total   every such connection that ended, response_flags = outcome
 *   istio_tcp_connections_failed_total   the closed ones whose response_flags are not "-" (refused,
 *                                        upstream unreachable...); ztunnel's `tcp_connections_failed`
 *   istio_tcp_received_bytes_total       bytes from the downstream (client) side towards the server
 *   istio_tcp_sent_bytes_total           bytes from the upstream (server) side back to the client
 * Byte direction is Envoy's (received = during request, sent = during response) for both
 * reporters, which ztunnel keeps; it reads "backwards" from the source's point of view
 * (istio/istio#32399, kiali/kiali#5822) and dashboards rely on exactly that.
 *
 * Agent gauges: ambit_agent_enrolled_pods, ambit_agent_certificates{state},
 * ambit_agent_hbone_connections{direction}, ambit_agent_connections_active{direction}.
 * Node process metrics (process_*, nodejs_*) come unprefixed from collectDefaultMetrics, the names
 * Node.js dashboards expect; node-resources.ts adds ambit_node_* gauges.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { TrafficDirection } from '../../common/diagnostics';
import { CONNECTION_LABEL_NAMES, type ConnectionLabelName } from './connection-labels';

export const ISTIO_TCP_METRICS = {
  opened: 'istio_tcp_connections_opened_total',
  closed: 'istio_tcp_connections_closed_total',
  failed: 'istio_tcp_connections_failed_total',
  receivedBytes: 'istio_tcp_received_bytes_total',
  sentBytes: 'istio_tcp_sent_bytes_total',
} as const;

export const AGENT_METRICS = {
  enrolledPods: 'ambit_agent_enrolled_pods',
  certificates: 'ambit_agent_certificates',
  hboneConnections: 'ambit_agent_hbone_connections',
  connectionsActive: 'ambit_agent_connections_active',
} as const;

/**
 * valid: issued, before its refresh time (half-life); expiring: past it, a refresh is due or being
 * retried; expired: past notAfter, not replaced; pending: requested, never issued yet.
 */
export const CERTIFICATE_STATES = ['valid', 'expiring', 'expired', 'pending'] as const;
export type CertificateState = (typeof CERTIFICATE_STATES)[number];

const DIRECTIONS: readonly TrafficDirection[] = ['inbound', 'outbound'];

export interface AgentMetrics {
  readonly registry: Registry;
  readonly opened: Counter<ConnectionLabelName>;
  readonly closed: Counter<ConnectionLabelName>;
  readonly failed: Counter<ConnectionLabelName>;
  readonly receivedBytes: Counter<ConnectionLabelName>;
  readonly sentBytes: Counter<ConnectionLabelName>;
  readonly connectionsActive: Gauge<'direction'>;
  setEnrolledPods(count: number): void;
  /** Sets every state; states left out are 0. */
  setCertificates(counts: Partial<Record<CertificateState, number>>): void;
  setHboneConnections(direction: TrafficDirection, count: number): void;
  /**
   * Runs `sample` before every read of the certificate and HBONE gauges (a scrape), so they show
   * the agent's state at scrape time. Returns the function that removes it.
   */
  onGaugeCollect(sample: () => void): () => void;
  /**
   * Runs `flush` before every read of the byte counters (a scrape), so connections that buffer
   * their byte counts show progress while open. Returns the function that removes it.
   */
  onBytesCollect(flush: () => void): () => void;
}

export interface AgentMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC) on the same registry; default true. */
  processMetrics?: boolean;
}

export function createAgentMetrics(opts: AgentMetricsOptions = {}): AgentMetrics {
  const registry = new Registry();
  const registers = [registry];
  const labelNames = CONNECTION_LABEL_NAMES;
  const flushers = new Set<() => void>();
  const collectBytes = (): void => {
    for (const flush of flushers) flush();
  };

  const opened = new Counter({
    name: ISTIO_TCP_METRICS.opened,
    help: 'The total number of TCP connections opened',
    labelNames,
    registers,
  });
  const closed = new Counter({
    name: ISTIO_TCP_METRICS.closed,
    help: 'The total number of TCP connections closed',
    labelNames,
    registers,
  });
  const failed = new Counter({
    name: ISTIO_TCP_METRICS.failed,
    help: 'The total number of TCP connections closed with a response flag (refused or failed; a subset of closed)',
    labelNames,
    registers,
  });
  const receivedBytes = new Counter({
    name: ISTIO_TCP_METRICS.receivedBytes,
    help: 'The size of total bytes received during request in case of a TCP connection (client to server)',
    labelNames,
    registers,
    collect: collectBytes,
  });
  const sentBytes = new Counter({
    name: ISTIO_TCP_METRICS.sentBytes,
    help: 'The size of total bytes sent during response in case of a TCP connection (server to client)',
    labelNames,
    registers,
    collect: collectBytes,
  });

  const enrolledPods = new Gauge({
    name: AGENT_METRICS.enrolledPods,
    help: 'Pods on this node enrolled in the mesh (capture in place).',
    registers,
  });
  const samplers = new Set<() => void>();
  const sampleGauges = (): void => {
    for (const sample of samplers) sample();
  };
  const certificates = new Gauge({
    name: AGENT_METRICS.certificates,
    help: 'Workload certificates the agent holds, by state (valid|expiring|expired|pending).',
    labelNames: ['state'] as const,
    registers,
    collect: sampleGauges,
  });
  const hboneConnections = new Gauge({
    name: AGENT_METRICS.hboneConnections,
    help: 'Open HBONE (HTTP/2 over mTLS) connections, by direction.',
    labelNames: ['direction'] as const,
    registers,
    collect: sampleGauges,
  });
  const connectionsActive = new Gauge({
    name: AGENT_METRICS.connectionsActive,
    help: 'Proxied TCP connections currently open, by direction.',
    labelNames: ['direction'] as const,
    registers,
  });

  // Present the agent series at 0 from the start, so dashboards and alerts see them before any event.
  enrolledPods.set(0);
  for (const state of CERTIFICATE_STATES) certificates.set({ state }, 0);
  for (const direction of DIRECTIONS) {
    hboneConnections.set({ direction }, 0);
    connectionsActive.set({ direction }, 0);
  }
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });

  return {
    registry,
    opened,
    closed,
    failed,
    receivedBytes,
    sentBytes,
    connectionsActive,
    setEnrolledPods(count) {
      enrolledPods.set(count);
    },
    setCertificates(counts) {
      for (const state of CERTIFICATE_STATES) certificates.set({ state }, counts[state] ?? 0);
    },
    setHboneConnections(direction, count) {
      hboneConnections.set({ direction }, count);
    },
    onGaugeCollect(sample) {
      samplers.add(sample);
      return () => void samplers.delete(sample);
    },
    onBytesCollect(flush) {
      flushers.add(flush);
      return () => {
        flushers.delete(flush);
      };
    },
  };
}
