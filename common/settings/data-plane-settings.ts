/**
 * Settings the agent and the waypoint share — how they reach the control plane and prove who they
 * are, their metrics and readiness ports, drain, HBONE pool knobs, log level — declared once.
 * Each program spreads these into its own declarations (agent/config.ts, waypoint/config.ts).
 */
import path from 'node:path';
import type { LogLevel } from '../log';
import { Ports } from '../ports';
import { dnsName, listenAddress, logLevel, wholeNumber, type Declarations } from './declared-settings';
import { controlPlaneAddress } from './grpc-address';

export interface DataPlaneSettings {
  /** Control plane gRPC address: host:port or unix:/path (ConfigService + CertificateService). */
  readonly controlPlane: string;
  /** File holding the credential for CertificateService (local: the node's bootstrap token). */
  readonly tokenFile: string;
  readonly trustDomain: string;
  readonly metricsListen: string;
  readonly readinessListen: string;
  /** How long a SIGTERM drain waits for open connections or requests before closing them. */
  readonly drainTimeoutMs: number;
  /** Requested certificate lifetime. */
  readonly certificateValiditySeconds: number;
  /** HBONE tunnels per pooled connection before another connection is opened. */
  readonly hboneStreamsPerConnection: number;
  /** Idle pooled HBONE connections close after this long. */
  readonly hboneIdleTimeoutMs: number;
  /** Dial timeout for upstream and HBONE connections. */
  readonly connectTimeoutMs: number;
  readonly logLevel: LogLevel;
}

export const DATA_PLANE_DECLARATIONS: Declarations<DataPlaneSettings> = {
  controlPlane: { env: 'AMBIT_CONTROL_PLANE', default: '127.0.0.1:15012', help: 'Control plane gRPC address (host:port or unix:/path)', parse: controlPlaneAddress },
  tokenFile: { env: 'AMBIT_NODE_TOKEN_FILE', default: '/var/run/secrets/ambit/node-token', help: "File with this node's credential", parse: (v) => path.resolve(v) },
  trustDomain: { env: 'AMBIT_TRUST_DOMAIN', default: 'cluster.local', help: 'SPIFFE trust domain', parse: dnsName },
  metricsListen: { env: 'AMBIT_METRICS_LISTEN', default: `:${Ports.metrics}`, help: 'Prometheus /metrics', parse: listenAddress },
  readinessListen: { env: 'AMBIT_READINESS_LISTEN', default: `:${Ports.readiness}`, help: '/healthz/ready', parse: listenAddress },
  drainTimeoutMs: { env: 'AMBIT_DRAIN_TIMEOUT_MS', default: '20000', help: 'SIGTERM drain deadline (ms)', parse: wholeNumber(0, 600_000, 'milliseconds') },
  certificateValiditySeconds: {
    env: 'AMBIT_CERT_VALIDITY_SECONDS',
    default: '86400',
    help: 'Requested workload certificate lifetime (s)',
    parse: wholeNumber(2, 30 * 86400, 'seconds'),
  },
  hboneStreamsPerConnection: { env: 'AMBIT_HBONE_STREAMS', default: '100', help: 'Tunnels per pooled HBONE connection', parse: wholeNumber(1, 10_000) },
  hboneIdleTimeoutMs: { env: 'AMBIT_HBONE_IDLE_MS', default: '30000', help: 'Idle pooled HBONE connections close after (ms)', parse: wholeNumber(100, 3_600_000, 'milliseconds') },
  connectTimeoutMs: { env: 'AMBIT_CONNECT_TIMEOUT_MS', default: '5000', help: 'Dial timeout (ms)', parse: wholeNumber(100, 120_000, 'milliseconds') },
  logLevel: { env: 'AMBIT_LOG_LEVEL', default: 'info', help: 'Log level', parse: logLevel },
};
