/**
 * Node resource gauges, sampled on an interval (default 15 s, a typical scrape interval) because
 * CPU utilisation is a rate between two reads of /proc/stat, not something a scrape can read at once.
 *
 *   ambit_node_cpu_utilization      busy share of all CPUs over the last interval, 0..1
 *   ambit_node_memory_used_bytes    total - available (MemAvailable), what the kernel cannot reclaim
 *   ambit_node_memory_total_bytes
 *   ambit_node_load1/5/15           load averages, named as node_exporter names them
 *
 * The agent process's own RSS and CPU seconds are in the JSON snapshot; on the registry they are
 * collectDefaultMetrics' process_resident_memory_bytes and process_cpu_seconds_total (read at scrape
 * time, so they are not duplicated here). The snapshot feeds /debug/resources and the dashboard.
 */
import os from 'node:os';
import { Gauge, type Registry } from 'prom-client';
import si from 'systeminformation';
import { AmbitError, ErrorCodes } from '../../common/errors';
import { silentLogger, type Logger } from '../../common/log';

export const NODE_METRICS = {
  cpuUtilization: 'ambit_node_cpu_utilization',
  memoryUsed: 'ambit_node_memory_used_bytes',
  memoryTotal: 'ambit_node_memory_total_bytes',
  load1: 'ambit_node_load1',
  load5: 'ambit_node_load5',
  load15: 'ambit_node_load15',
} as const;

export const DEFAULT_SAMPLE_INTERVAL_MS = 15_000;

export interface NodeResourceSnapshot {
  sampledAt: string;
  cpu: { utilization: number; cores: number };
  memory: { usedBytes: number; availableBytes: number; totalBytes: number };
  loadAverage: { '1m': number; '5m': number; '15m': number };
  process: { pid: number; rssBytes: number; heapUsedBytes: number; cpuSeconds: number; uptimeSeconds: number };
}

export interface NodeResources {
  /** Samples now, then every interval; the timer does not keep the process alive. Idempotent. */
  start(): void;
  stop(): void;
  /** Takes one sample, updates the gauges and returns it. */
  sample(): Promise<NodeResourceSnapshot>;
  /** The latest sample, undefined before the first one completes. */
  snapshot(): NodeResourceSnapshot | undefined;
}

export interface NodeResourcesOptions {
  /** Where the ambit_node_* gauges go (the agent's registry); none when omitted. */
  registry?: Registry;
  intervalMs?: number;
  logger?: Logger;
}

const round = (n: number, digits: number): number => Number(n.toFixed(digits));

export function createNodeResources(opts: NodeResourcesOptions = {}): NodeResources {
  const intervalMs = opts.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
  if (!Number.isFinite(intervalMs) || intervalMs < 100) {
    throw new AmbitError(
      ErrorCodes.INVALID_ARGUMENT,
      `node resource sample interval ${intervalMs} ms is too short; use at least 100 ms`,
    );
  }
  const logger = (opts.logger ?? silentLogger).child({ component: 'node-resources' });
  const registers = opts.registry !== undefined ? [opts.registry] : [];
  const gauge = (name: string, help: string): Gauge => new Gauge({ name, help, registers });
  const gauges = {
    cpu: gauge(NODE_METRICS.cpuUtilization, 'Busy share of all node CPUs over the last sample interval (0-1).'),
    used: gauge(NODE_METRICS.memoryUsed, 'Node memory in use: total minus available, in bytes.'),
    total: gauge(NODE_METRICS.memoryTotal, 'Node memory, in bytes.'),
    load1: gauge(NODE_METRICS.load1, 'Node 1-minute load average.'),
    load5: gauge(NODE_METRICS.load5, 'Node 5-minute load average.'),
    load15: gauge(NODE_METRICS.load15, 'Node 15-minute load average.'),
  };

  let latest: NodeResourceSnapshot | undefined;
  let inFlight: Promise<NodeResourceSnapshot> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const takeSample = async (): Promise<NodeResourceSnapshot> => {
    // currentLoad() measures since its previous call (its first call waits 0.5 s for a baseline).
    const [load, mem] = await Promise.all([si.currentLoad(), si.mem()]);
    const [l1, l5, l15] = os.loadavg();
    const cpuUsage = process.cpuUsage();
    const memUsage = process.memoryUsage();
    const utilization = Math.min(1, Math.max(0, (load.currentLoad || 0) / 100));
    const snap: NodeResourceSnapshot = {
      sampledAt: new Date().toISOString(),
      cpu: { utilization: round(utilization, 4), cores: load.cpus.length || os.availableParallelism() },
      memory: { usedBytes: mem.total - mem.available, availableBytes: mem.available, totalBytes: mem.total },
      loadAverage: { '1m': round(l1, 2), '5m': round(l5, 2), '15m': round(l15, 2) },
      process: {
        pid: process.pid,
        rssBytes: memUsage.rss,
        heapUsedBytes: memUsage.heapUsed,
        cpuSeconds: round((cpuUsage.user + cpuUsage.system) / 1e6, 3),
        uptimeSeconds: round(process.uptime(), 1),
      },
    };
    gauges.cpu.set(snap.cpu.utilization);
    gauges.used.set(snap.memory.usedBytes);
    gauges.total.set(snap.memory.totalBytes);
    gauges.load1.set(l1);
    gauges.load5.set(l5);
    gauges.load15.set(l15);
    latest = snap;
    return snap;
  };

  const sample = (): Promise<NodeResourceSnapshot> => {
    // Overlapping callers share one read: two currentLoad() calls would split the interval.
    inFlight ??= takeSample().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  const tick = (): void => {
    sample().catch((err: unknown) => logger.warn({ err }, 'node resource sample failed; keeping the last one'));
  };

  return {
    start() {
      if (timer !== undefined) return;
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
    sample,
    snapshot: () => latest,
  };
}
