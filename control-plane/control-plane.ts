/**
 * The control plane, assembled: sources -> model -> (ConfigService push, CA) over one gRPC server,
 * plus the status server (/metrics, /healthz/ready, /debug/*, /dashboard). Used embedded by
 * `ambit local` and standalone by `ambit control-plane`.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/log';
import { silentLogger } from '../common/log';
import type { NodeAuthenticator } from './auth/node-authenticator';
import { CertificateAuthority } from './ca/certificate-authority';
import { addCertificateService } from './ca/certificate-service';
import type { RootStore } from './ca/root-store';
import { createDashboard, type Dashboard } from './dashboard/dashboard';
import type { MetricsDialer } from './dashboard/metrics-fetch';
import { startStatusServer, StatusServer } from './http/status-server';
import { BoundGrpcAddress, bindGrpcAddress, parseGrpcListenOption } from './grpc-listen';
import { parseListenAddress } from './listen-address';
import { createControlPlaneMetrics } from './metrics';
import { MeshModel } from './model/mesh-model';
import { addConfigService, ConfigServiceHandle } from './push';
import type { ConfigProblem, ConfigSource } from './sources/source';
import type { MeshConfig } from './translate/context';

export const DEFAULT_GRPC_LISTEN = '127.0.0.1:15012';
export const DEFAULT_HTTP_LISTEN = '127.0.0.1:15014';

export interface ControlPlaneOptions {
  sources: ConfigSource[];
  /** CA root and other state; created 0700 when missing. */
  stateDir: string;
  nodeAuthenticator: NodeAuthenticator;
  /** Where the CA root lives; default `<stateDir>/ca/` (the Kubernetes source: a Secret). */
  rootStore?: RootStore;
  trustDomain?: string;
  rootNamespace?: string;
  domainSuffix?: string;
  /** host:port for ConfigService and CertificateService; default 127.0.0.1:15012. */
  grpcListen?: string;
  /**
   * More addresses for the same gRPC services: host:port or "unix:/absolute/path". A socket is
   * how pods in other network namespaces (the local runtime's) reach the control plane; it is
   * created 0600, replaces a stale file of a dead process, and is removed on close().
   */
  grpcExtraListen?: readonly string[];
  /** host:port for /metrics, /healthz/ready, /debug; default 127.0.0.1:15014. */
  httpListen?: string;
  /** Push debounce (ms). */
  debounceMs?: number;
  /**
   * How the dashboard (/dashboard on the status server) reaches the agents' and waypoints'
   * metrics addresses; default plain TCP. The local runtime dials pod IPs from a node's netns.
   */
  dashboardDial?: MetricsDialer;
  logger?: Logger;
}

export interface ControlPlane {
  /** host:port the gRPC server is bound to. */
  readonly grpcAddress: string;
  /** The bound grpcExtraListen addresses, in order (actual ports; "unix:/path" for sockets). */
  readonly grpcExtraAddresses: readonly string[];
  /** http://host:port of the status server. */
  readonly httpAddress: string;
  readonly model: MeshModel;
  readonly ca: CertificateAuthority;
  readonly config: ConfigServiceHandle;
  readonly status: StatusServer;
  problems(): ConfigProblem[];
  /** Stops sources, ends streams, closes both servers. Idempotent. */
  close(): Promise<void>;
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const logger = opts.logger ?? silentLogger;
  const grpcListen = parseListenAddress('grpcListen', opts.grpcListen ?? DEFAULT_GRPC_LISTEN);
  const httpListen = parseListenAddress('httpListen', opts.httpListen ?? DEFAULT_HTTP_LISTEN);
  const extraListen = (opts.grpcExtraListen ?? []).map((a, i) => parseGrpcListenOption(`grpcExtraListen[${i}]`, a));
  const mesh: Partial<MeshConfig> = {
    ...(opts.trustDomain !== undefined ? { trustDomain: opts.trustDomain } : {}),
    ...(opts.rootNamespace !== undefined ? { rootNamespace: opts.rootNamespace } : {}),
    ...(opts.domainSuffix !== undefined ? { domainSuffix: opts.domainSuffix } : {}),
  };
  const model = new MeshModel({ mesh, logger });
  const metrics = createControlPlaneMetrics();
  const untrack = metrics.trackStore(model.resources);
  const ca = await CertificateAuthority.open({
    stateDir: opts.stateDir,
    rootStore: opts.rootStore,
    identityDirectory: model,
    trustDomain: model.mesh.trustDomain,
    logger,
  });

  const server = new grpc.Server({ 'grpc.max_send_message_length': 256 * 1024 * 1024 });
  const config = addConfigService(server, { store: model.resources, logger, metrics, debounceMs: opts.debounceMs });
  addCertificateService(server, { ca, authenticator: opts.nodeAuthenticator, logger });

  const started: ConfigSource[] = [];
  const bound: BoundGrpcAddress[] = [];
  let status: StatusServer | undefined;
  let dashboard: Dashboard | undefined;
  const close = async (): Promise<void> => {
    dashboard?.close();
    await Promise.allSettled(started.map((s) => s.stop()));
    started.length = 0;
    config.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2_000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    for (const b of bound) b.cleanup();
    untrack();
    await status?.close();
  };

  try {
    // Sources first: a client that connected before the first complete view would get an empty
    // snapshot and drop everything it has (policies included) until the deltas arrive.
    for (const source of opts.sources) {
      await source.start(model.sinkFor(source.name));
      started.push(source);
    }
    const main = await bindGrpcAddress(server, { kind: 'tcp', ...grpcListen });
    bound.push(main);
    for (const a of extraListen) bound.push(await bindGrpcAddress(server, a));
    status = await startStatusServer({
      host: httpListen.host,
      port: httpListen.port,
      registry: metrics.registry,
      clients: () => config.clients(),
      problems: () => model.problems(),
      readinessChecks: {
        'sources-synced': () => model.synced,
        'ca-loaded': () => ca.rootCertificate.length > 0,
      },
      logger,
    });
    dashboard = createDashboard({
      store: model.resources,
      rootNamespace: model.mesh.rootNamespace,
      clients: () => config.clients(),
      dial: opts.dashboardDial,
      logger,
    });
    for (const [path, handler] of dashboard.routes) status.route(path, handler);
    const grpcAddress = main.address;
    const grpcExtraAddresses = bound.slice(1).map((b) => b.address);
    logger.info({ grpc: grpcAddress, grpcExtra: grpcExtraAddresses, http: status.url, trustDomain: model.mesh.trustDomain, sources: opts.sources.map((s) => s.name) }, 'control plane started');
    let closing: Promise<void> | undefined;
    return {
      grpcAddress,
      grpcExtraAddresses,
      httpAddress: status.url,
      model,
      ca,
      config,
      status,
      problems: () => model.problems(),
      close: () => (closing ??= close()),
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
