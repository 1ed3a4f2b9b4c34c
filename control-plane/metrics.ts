/**
 * Control-plane metrics on their own prom-client Registry (never the global default one, so
 * several control planes in one process, e.g. tests or `ambit local`, do not collide).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RESOURCE_TYPES, ResourceStore, ResourceTypeName } from './model/resource-store';

export const METRIC_NAMES = {
  connectedClients: 'ambit_config_connected_clients',
  pushLatency: 'ambit_config_push_latency_seconds',
  pushes: 'ambit_config_pushes_total',
  resources: 'ambit_config_resources',
  nacks: 'ambit_config_nacks_total',
} as const;

/** Fine-grained below 100 ms, where pushes are expected to land; coarse above. */
export const PUSH_LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export type ClientKindLabel = 'agent' | 'waypoint';
/** A NACK's resource type when its errors name exactly one; "unknown" / "mixed" otherwise. */
export type NackTypeLabel = ResourceTypeName | 'unknown' | 'mixed';

export interface ControlPlaneMetrics {
  readonly registry: Registry;
  /** Open Watch streams that have subscribed. */
  readonly connectedClients: Gauge<'kind'>;
  /** Store change -> response handed to the client's stream (deltas only). */
  readonly pushLatency: Histogram<'kind'>;
  /** Responses written, by push="snapshot"|"delta". */
  readonly pushes: Counter<'kind' | 'push'>;
  readonly resources: Gauge<'type'>;
  readonly nacks: Counter<'kind' | 'type'>;
  /** Keeps `resources` equal to the store's counts until the returned function is called. */
  trackStore(store: ResourceStore): () => void;
}

export interface ControlPlaneMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC) on the same registry; default true. */
  processMetrics?: boolean;
}

export function createControlPlaneMetrics(opts: ControlPlaneMetricsOptions = {}): ControlPlaneMetrics {
  const registry = new Registry();
  const registers = [registry];
  const connectedClients = new Gauge({
    name: METRIC_NAMES.connectedClients,
    help: 'Config Watch streams that have subscribed, by client kind.',
    labelNames: ['kind'] as const,
    registers,
  });
  const pushLatency = new Histogram({
    name: METRIC_NAMES.pushLatency,
    help: 'Seconds from a resource store change to the delta carrying it being written to a client.',
    labelNames: ['kind'] as const,
    buckets: PUSH_LATENCY_BUCKETS,
    registers,
  });
  const pushes = new Counter({
    name: METRIC_NAMES.pushes,
    help: 'Config responses written to clients, by client kind and push (snapshot|delta).',
    labelNames: ['kind', 'push'] as const,
    registers,
  });
  const resources = new Gauge({
    name: METRIC_NAMES.resources,
    help: 'Resources the control plane serves, by type.',
    labelNames: ['type'] as const,
    registers,
  });
  const nacks = new Counter({
    name: METRIC_NAMES.nacks,
    help: 'Config versions clients rejected, by client kind and resource type (when the NACK names one).',
    labelNames: ['kind', 'type'] as const,
    registers,
  });
  // Present the series at 0 from the start, so dashboards and alerts see them before any event.
  for (const kind of ['agent', 'waypoint'] as const) {
    connectedClients.set({ kind }, 0);
    for (const push of ['snapshot', 'delta']) pushes.inc({ kind, push }, 0);
  }
  for (const type of RESOURCE_TYPES) resources.set({ type }, 0);
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });

  const trackStore = (store: ResourceStore): (() => void) => {
    const update = (): void => {
      for (const type of RESOURCE_TYPES) resources.set({ type }, store.count(type));
    };
    update();
    return store.subscribe(update);
  };

  return { registry, connectedClients, pushLatency, pushes, resources, nacks, trackStore };
}
