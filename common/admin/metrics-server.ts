/**
 * The agent's metrics server (15020, all interfaces so Prometheus can scrape it): the registry in
 * Prometheus text format at /metrics, and at /stats/prometheus too, the path Istio's ztunnel and
 * sidecar scrape annotations point at, so existing scrape configs find the agent.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../log';
import { Ports } from '../ports';
import { sendText, startHttpEndpoint, type HttpEndpoint, type ListenOptions, type Route } from './http-server';

export interface MetricsServerOptions extends Partial<ListenOptions> {
  /** The agent's registry (telemetry/metrics.ts). */
  registry: Registry;
  logger?: Logger;
}

export const METRICS_DEFAULT_HOST = '0.0.0.0';
export const METRICS_PATHS = ['/metrics', '/stats/prometheus'] as const;

export function startMetricsServer(opts: MetricsServerOptions): Promise<HttpEndpoint> {
  const scrape: Route = {
    description: 'Prometheus metrics',
    handle: async (_req, res) => sendText(res, 200, await opts.registry.metrics(), opts.registry.contentType),
  };
  return startHttpEndpoint(
    'metrics',
    { host: opts.host ?? METRICS_DEFAULT_HOST, port: opts.port ?? Ports.metrics },
    new Map(METRICS_PATHS.map((path) => [path, scrape])),
    opts.logger,
  );
}
