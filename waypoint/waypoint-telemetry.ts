/**
 * The waypoint's observability, assembled: Istio's request metrics (reporter "waypoint"), one JSON
 * access-log line per request, a span per request (W3C traceparent continued upstream, exported
 * over OTLP/HTTP when configured), and the three ports — admin (15000, localhost), metrics (15020)
 * and readiness (15021).
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { pinoLevelControl, startAdminServer } from '../common/admin/admin-server';
import type { HttpEndpoint } from '../common/admin/http-server';
import { startMetricsServer } from '../common/admin/metrics-server';
import { advertisedMetricsUrl } from '../common/admin/metrics-url';
import { startReadinessServer } from '../common/admin/readiness-server';
import type { Logger } from '../common/log';
import { parseListenAddress } from '../common/settings/declared-settings';
import type { WaypointConfig } from './config';
import type { Exchange } from './pipeline/exchange';
import type { RequestTelemetry } from './pipeline/pipeline';
import { createRequestAccessLog, type RequestAccessLog } from './telemetry/access-log';
import { OtlpExporter } from './telemetry/otlp-exporter';
import { requestLabels, type RequestLabels } from './telemetry/request-labels';
import { RequestMetrics } from './telemetry/request-metrics';
import { parseTraceparent, spanStatusForHttp, startSpan } from './telemetry/tracing';

export interface WaypointIntrospection {
  configDump(): unknown;
  connections(): unknown[];
  readiness(): Array<{ name: string; ok: boolean; detail?: string }>;
}

export class WaypointTelemetry implements RequestTelemetry {
  readonly registry = new Registry();
  readonly metrics: RequestMetrics;
  private readonly accessLog: RequestAccessLog | undefined;
  private readonly exporter: OtlpExporter | undefined;
  private readonly endpoints: HttpEndpoint[] = [];
  /** Where the control plane can scrape /metrics (Subscribe.metrics_url); set once it listens. */
  metricsUrl: string | undefined;
  private readonly labelCache = new Map<string, RequestLabels>();
  /** Requests answered, by outcome, for /config_dump's stats. */
  readonly counts = { requests: 0, errors: 0 };

  constructor(
    private readonly settings: WaypointConfig,
    private readonly log: Logger,
  ) {
    this.metrics = new RequestMetrics(this.registry);
    collectDefaultMetrics({ register: this.registry, prefix: 'ambit_waypoint_' });
    this.accessLog = settings.accessLog === 'stdout' ? createRequestAccessLog() : undefined;
    this.exporter = settings.otlpEndpoint ? new OtlpExporter({ endpoint: settings.otlpEndpoint, serviceName: `waypoint.${settings.name.replace('/', '.')}`, logger: log }) : undefined;
  }

  begin(ex: Exchange): string | undefined {
    const parent = parseTraceparent(ex.facts.headers.traceparent as string | undefined);
    const span = startSpan(parent, `${ex.facts.method} ${ex.service?.hostname ?? ex.facts.host}`, 'SERVER', undefined, this.exporter !== undefined);
    ex.span = span;
    return span.traceparent();
  }

  finish(ex: Exchange): void {
    this.counts.requests++;
    if (ex.error) this.counts.errors++;
    const durationMs = performance.now() - ex.startHr;
    const labels = this.labelsFor(ex);
    this.metrics.observe(labels, durationMs, ex.requestBytes, ex.responseBytes);
    const span = ex.span;
    if (span) {
      span.setAttribute('http.request.method', ex.facts.method);
      span.setAttribute('url.path', ex.facts.path);
      span.setAttribute('http.response.status_code', ex.status);
      if (ex.routeName) span.setAttribute('http.route', ex.routeName);
      if (ex.endpoint) span.setAttribute('server.address', ex.endpoint.address);
      const finished = span.end(spanStatusForHttp(ex.status, 'SERVER'));
      if (finished && this.exporter && span.sampled) this.exporter.export(finished);
    }
    this.accessLog?.log({
      facts: ex.facts,
      labels,
      startTime: ex.startedAt,
      durationMs,
      bytesReceived: ex.requestBytes,
      bytesSent: ex.responseBytes,
      upstreamHost: ex.endpoint ? `${ex.endpoint.address}:${ex.endpoint.port}` : undefined,
      routeName: ex.routeName || undefined,
      attempts: ex.attempts,
      traceparent: span?.traceparent(),
      srcName: ex.sourceWorkload?.name,
      dstName: ex.endpoint?.workload?.name,
      error: ex.error,
      policy: ex.policy ? { decision: ex.error?.code === 'AMBIT_ERR_AUTHZ_DENIED' ? 'deny' : 'allow', name: ex.policy } : undefined,
    });
  }

  /**
   * Istio's labels for a request, built once per distinct (source, destination, service, outcome):
   * the same frozen object comes back for the next such request, and the metrics find their
   * series by identity.
   */
  private labelsFor(ex: Exchange): RequestLabels {
    const flags = ex.flags.length > 0 ? ex.flags.join(',') : '-';
    const src = ex.sourceWorkload;
    const key = `${src ? `${src.namespace}/${src.name}` : ''}|${ex.ctx.peer.identity}|${ex.endpoint?.uid}|${ex.service?.hostname}|${ex.facts.grpc}|${ex.status}|${ex.grpcStatus}|${flags}|${ex.ctx.mtls}`;
    let labels = this.labelCache.get(key);
    if (!labels) {
      if (this.labelCache.size >= 10_000) this.labelCache.clear();
      labels = requestLabels({
        source: ex.sourceWorkload,
        sourcePrincipal: ex.ctx.peer.identity,
        destination: ex.endpoint?.workload,
        destinationService: ex.service,
        grpc: ex.facts.grpc,
        responseCode: ex.status,
        grpcStatus: ex.grpcStatus,
        responseFlags: flags,
        mtls: ex.ctx.mtls,
        clusterName: this.settings.clusterName,
      });
      this.labelCache.set(key, labels);
    }
    return labels;
  }

  /** A new config version may change workloads' labels: forget the cached label sets. */
  configChanged(): void {
    this.labelCache.clear();
  }

  async startServers(w: WaypointIntrospection): Promise<void> {
    const at = (key: keyof WaypointConfig) => parseListenAddress(key, String(this.settings[key]));
    this.endpoints.push(
      await startAdminServer({
        ...at('adminListen'),
        logger: this.log,
        sources: { configDump: () => w.configDump(), connections: () => w.connections(), ...pinoLevelControl(this.log) },
      }),
    );
    const metrics = await startMetricsServer({ ...at('metricsListen'), registry: this.registry, logger: this.log });
    this.endpoints.push(metrics);
    this.metricsUrl = advertisedMetricsUrl(metrics.address);
    const readiness = await startReadinessServer({ ...at('readinessListen'), logger: this.log });
    for (const name of ['config', 'certificate', 'listeners', 'draining']) {
      readiness.addCheck({ name, check: () => w.readiness().find((c) => c.name === name) ?? { ok: false, detail: 'unknown check' } });
    }
    this.endpoints.push(readiness);
  }

  async close(): Promise<void> {
    await this.exporter?.close();
    await Promise.all(this.endpoints.map((e) => e.close()));
  }
}
