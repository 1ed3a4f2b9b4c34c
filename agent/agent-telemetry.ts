/**
 * The agent's observability, assembled: Istio's TCP metrics and the access log (through the data
 * path's observer), node resource gauges, and the three node ports — admin (15000, localhost),
 * metrics (15020) and readiness (15021).
 */
import type { Logger } from '../common/log';
import { parseListenAddress } from '../common/settings/declared-settings';
import { pinoLevelControl, startAdminServer } from '../common/admin/admin-server';
import type { HttpEndpoint } from '../common/admin/http-server';
import { startMetricsServer } from '../common/admin/metrics-server';
import { advertisedMetricsUrl } from '../common/admin/metrics-url';
import { startReadinessServer } from '../common/admin/readiness-server';
import type { AgentConfig } from './config';
import type { MeshView } from './model/mesh-view';
import { createAccessLog } from './telemetry/access-log';
import { createConnectionTelemetry, type ConnectionTelemetry } from './telemetry/connection-telemetry';
import { TelemetryObserver } from './telemetry/connection-observer';
import { createAgentMetrics, type AgentMetrics } from './telemetry/metrics';
import { createNodeResources, type NodeResources } from './telemetry/node-resources';

export interface AgentIntrospection {
  configDump(): unknown;
  connections(): unknown[];
  readiness(): Array<{ name: string; ok: boolean; detail?: string }>;
}

export class AgentTelemetry {
  readonly metrics: AgentMetrics;
  readonly connections: ConnectionTelemetry;
  readonly observer: TelemetryObserver;
  readonly resources: NodeResources;
  /** Where the control plane can scrape /metrics (Subscribe.metrics_url); set once it listens. */
  metricsUrl: string | undefined;
  private readonly endpoints: HttpEndpoint[] = [];

  constructor(
    private readonly log: Logger,
    view: () => MeshView,
  ) {
    this.metrics = createAgentMetrics();
    this.connections = createConnectionTelemetry({ metrics: this.metrics, accessLog: createAccessLog(log) });
    this.observer = new TelemetryObserver(this.connections, view);
    this.resources = createNodeResources({ registry: this.metrics.registry, logger: log });
  }

  async startServers(settings: AgentConfig, agent: AgentIntrospection): Promise<void> {
    this.resources.start();
    const at = (key: keyof AgentConfig) => parseListenAddress(key, String(settings[key]));
    this.endpoints.push(
      await startAdminServer({
        ...at('adminListen'),
        logger: this.log,
        sources: {
          configDump: () => agent.configDump(),
          connections: () => agent.connections(),
          resources: () => this.resources.snapshot(),
          ...pinoLevelControl(this.log),
        },
      }),
    );
    const metrics = await startMetricsServer({ ...at('metricsListen'), registry: this.metrics.registry, logger: this.log });
    this.endpoints.push(metrics);
    this.metricsUrl = advertisedMetricsUrl(metrics.address);
    const readiness = await startReadinessServer({ ...at('readinessListen'), logger: this.log });
    for (const name of ['bpf', 'config', 'pods', 'certificates', 'draining']) {
      readiness.addCheck({
        name,
        check: () => agent.readiness().find((c) => c.name === name) ?? { ok: false, detail: 'unknown check' },
      });
    }
    this.endpoints.push(readiness);
  }

  async close(): Promise<void> {
    this.resources.stop();
    this.connections.close();
    await Promise.all(this.endpoints.map((e) => e.close()));
  }
}
