/**
 * The agent's settings: every option, its environment variable, its default and its check,
 * declared here once (`ambit agent --help` prints them). Flags override the environment. The
 * result is validated and frozen; a bad value fails start-up naming the key, the value and what to
 * use.
 */
import net from 'node:net';
import path from 'node:path';
import type { LogLevel } from '../common/log';
import { Ports } from '../common/ports';
import {
  boolean,
  dnsName,
  listenAddress,
  loadSettings,
  logLevel,
  SettingError,
  text,
  wholeNumber,
  invalidSetting,
  type Declarations,
} from '../common/settings/declared-settings';
import { controlPlaneAddress } from '../common/settings/grpc-address';
import { AgentError, AgentErrorCodes } from './errors';

export interface AgentConfig {
  /** This node's name; the control plane sends this node's view and issues its pods' identities. */
  readonly node: string;
  /** host:port of the control plane (ConfigService + CertificateService). */
  readonly controlPlane: string;
  /** File holding this node's credential (local: the bootstrap token `ambit local` wrote). */
  readonly tokenFile: string;
  readonly trustDomain: string;
  /** cgroup-v2 directory under which pods are enrolled; the capture programs attach here. */
  readonly cgroupRoot: string;
  /** Allow cgroupRoot to be the machine's cgroup-v2 root (a dedicated Kubernetes node). */
  readonly allowHostRootCgroup: boolean;
  /** bpffs directory for pinned maps and links ('' = none). */
  readonly pinDir: string;
  /** The enrollment socket (SOCK_SEQPACKET, mode 0600). */
  readonly enrollmentSocket: string;
  /** Last accepted config snapshot and other state. */
  readonly stateDir: string;
  readonly adminListen: string;
  readonly metricsListen: string;
  readonly readinessListen: string;
  /** How long a SIGTERM drain waits for open connections before closing them. */
  readonly drainTimeoutMs: number;
  /** Requested certificate lifetime. */
  readonly certificateValiditySeconds: number;
  /** Upstream resolver host:port for names outside the mesh; 'resolv.conf' = its first nameserver; 'none' = SERVFAIL. */
  readonly dnsUpstream: string;
  /** Capture pods' DNS (port 53) and answer it with the agent's DNS proxy. */
  readonly dnsCapture: boolean;
  readonly domainSuffix: string;
  /** Namespace whose selector-less policies apply mesh-wide (Istio's root namespace). */
  readonly rootNamespace: string;
  /** HBONE tunnels per pooled connection before another connection is opened. */
  readonly hboneStreamsPerConnection: number;
  /** Idle pooled HBONE connections close after this long. */
  readonly hboneIdleTimeoutMs: number;
  /** Dial timeout for app and HBONE connections. */
  readonly connectTimeoutMs: number;
  /** Source addresses of kubelet probes: their plaintext connections bypass mTLS policy (Istio's probe exemption). */
  readonly probeSources: readonly string[];
  /** The cluster label on metrics (Istio's default name). */
  readonly clusterName: string;
  readonly logLevel: LogLevel;
}

const dir = (v: string): string => path.resolve(v);
const optionalDir = (v: string): string => (v === '' || v === 'none' ? '' : path.resolve(v));

const ipList = (v: string, key: string): readonly string[] => {
  const ips = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const ip of ips) if (net.isIP(ip) === 0) throw invalidSetting(key, v, `'${ip}' is not an IP address; use a comma-separated list of IPs`);
  return Object.freeze(ips);
};

const resolver = (v: string, key: string): string => {
  if (v === 'none' || v === 'resolv.conf') return v;
  if (!/^(\[[0-9a-fA-F:]+\]|[0-9.]+):[0-9]{1,5}$/.test(v)) {
    throw invalidSetting(key, v, "use ip:port (e.g. 127.0.0.53:53), 'resolv.conf' or 'none'");
  }
  return v;
};

export const AGENT_DECLARATIONS: Declarations<AgentConfig> = {
  node: { env: 'AMBIT_NODE_NAME', default: undefined, help: 'Name of this node (as the control plane knows it)', parse: dnsName },
  controlPlane: { env: 'AMBIT_CONTROL_PLANE', default: '127.0.0.1:15012', help: 'Control plane gRPC address (host:port or unix:/path)', parse: controlPlaneAddress },
  tokenFile: { env: 'AMBIT_NODE_TOKEN_FILE', default: '/var/run/secrets/ambit/node-token', help: "File with this node's credential", parse: dir },
  trustDomain: { env: 'AMBIT_TRUST_DOMAIN', default: 'cluster.local', help: 'SPIFFE trust domain', parse: dnsName },
  cgroupRoot: { env: 'AMBIT_CGROUP_ROOT', default: undefined, help: 'cgroup-v2 directory under which pods are enrolled', parse: dir },
  allowHostRootCgroup: {
    env: 'AMBIT_ALLOW_HOST_ROOT_CGROUP',
    default: 'false',
    help: "Allow attaching at the machine's cgroup-v2 root (dedicated Kubernetes nodes only)",
    parse: boolean,
  },
  pinDir: { env: 'AMBIT_PIN_DIR', default: '', help: "bpffs directory for pinned maps and links ('' = none)", parse: optionalDir },
  enrollmentSocket: { env: 'AMBIT_ENROLLMENT_SOCKET', default: '/var/run/ambit/enrollment.sock', help: 'Enrollment socket path', parse: dir },
  stateDir: { env: 'AMBIT_AGENT_STATE_DIR', default: '/var/lib/ambit/agent', help: 'Config snapshot cache and other state', parse: dir },
  adminListen: { env: 'AMBIT_ADMIN_LISTEN', default: `127.0.0.1:${Ports.admin}`, help: 'Admin API (/config_dump, /debug/connections, /logging)', parse: listenAddress },
  metricsListen: { env: 'AMBIT_METRICS_LISTEN', default: `:${Ports.metrics}`, help: 'Prometheus /metrics', parse: listenAddress },
  readinessListen: { env: 'AMBIT_READINESS_LISTEN', default: `:${Ports.readiness}`, help: '/healthz/ready', parse: listenAddress },
  drainTimeoutMs: { env: 'AMBIT_DRAIN_TIMEOUT_MS', default: '20000', help: 'SIGTERM drain deadline (ms)', parse: wholeNumber(0, 600_000, 'milliseconds') },
  certificateValiditySeconds: {
    env: 'AMBIT_CERT_VALIDITY_SECONDS',
    default: '86400',
    help: 'Requested workload certificate lifetime (s)',
    parse: wholeNumber(2, 30 * 86400, 'seconds'),
  },
  dnsUpstream: { env: 'AMBIT_DNS_UPSTREAM', default: 'resolv.conf', help: "Resolver for names outside the mesh: ip:port, 'resolv.conf' or 'none'", parse: resolver },
  dnsCapture: { env: 'AMBIT_DNS_CAPTURE', default: 'true', help: "Capture pods' DNS and answer it in the agent", parse: boolean },
  domainSuffix: { env: 'AMBIT_DOMAIN_SUFFIX', default: 'cluster.local', help: 'Service hostnames are <svc>.<ns>.svc.<suffix>', parse: dnsName },
  rootNamespace: { env: 'AMBIT_ROOT_NAMESPACE', default: 'istio-system', help: 'Namespace whose selector-less policies apply mesh-wide', parse: text },
  hboneStreamsPerConnection: { env: 'AMBIT_HBONE_STREAMS', default: '100', help: 'Tunnels per pooled HBONE connection', parse: wholeNumber(1, 10_000) },
  hboneIdleTimeoutMs: { env: 'AMBIT_HBONE_IDLE_MS', default: '30000', help: 'Idle pooled HBONE connections close after (ms)', parse: wholeNumber(100, 3_600_000, 'milliseconds') },
  connectTimeoutMs: { env: 'AMBIT_CONNECT_TIMEOUT_MS', default: '5000', help: 'Dial timeout (ms)', parse: wholeNumber(100, 120_000, 'milliseconds') },
  probeSources: {
    env: 'AMBIT_PROBE_SOURCES',
    default: '169.254.7.127',
    help: 'Comma-separated source IPs of kubelet probes (exempt from PeerAuthentication and authorization)',
    parse: ipList,
  },
  clusterName: { env: 'AMBIT_CLUSTER_NAME', default: 'Kubernetes', help: 'Cluster name sent in HBONE baggage (k8s.cluster.name)', parse: text },
  logLevel: { env: 'AMBIT_LOG_LEVEL', default: 'info', help: 'Log level', parse: logLevel },
};

export type AgentFlags = Partial<Record<keyof AgentConfig, string | number | boolean | undefined>>;

export function loadAgentConfig(flags: AgentFlags, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  try {
    return loadSettings(AGENT_DECLARATIONS, flags, env);
  } catch (e) {
    if (e instanceof SettingError) throw new AgentError(AgentErrorCodes.INVALID_OPTION, e.message);
    throw e;
  }
}
