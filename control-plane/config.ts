/**
 * The standalone control plane's settings: every option, its environment variable, its default and
 * its check, declared here once. `ambit control-plane` flags override the environment. The result
 * is validated and frozen; a bad value fails start-up naming the key, the value and what to use.
 */
import path from 'node:path';
import type { LogLevel } from '../common/log';
import {
  dnsName,
  invalidSetting,
  listenAddress as listen,
  loadSettings,
  logLevel,
  SettingError,
  text,
  wholeNumber,
  type Declarations,
} from '../common/settings/declared-settings';
import { grpcListenList } from '../common/settings/grpc-address';
import { ControlPlaneError, ControlPlaneErrorCodes } from './errors';
import { DEFAULT_GRPC_LISTEN, DEFAULT_HTTP_LISTEN } from './control-plane';

export type SourceKind = 'yaml' | 'kube';

export interface ControlPlaneConfig {
  /** Where configuration comes from: a YAML directory, or the Kubernetes API (docs/kubernetes.md). */
  readonly source: SourceKind;
  /** Directory of Kubernetes-shaped YAML to serve (watched); required with source yaml. */
  readonly configDir: string;
  /** kubeconfig file for source kube; '' = $KUBECONFIG, ~/.kube/config, or the pod's service account. */
  readonly kubeconfig: string;
  /** CA root and node tokens. */
  readonly stateDir: string;
  readonly grpcListen: string;
  /** More gRPC addresses (host:port or unix:/abs/path), e.g. a socket pods in other netns can reach. */
  readonly grpcExtraListen: readonly string[];
  readonly httpListen: string;
  readonly trustDomain: string;
  readonly rootNamespace: string;
  readonly domainSuffix: string;
  readonly debounceMs: number;
  readonly logLevel: LogLevel;
  /** Namespace the control plane runs in: its leader-election Lease lives there. */
  readonly namespace: string;
  /** This replica's name in the Lease ('' = the host name, which is the pod name in a pod). */
  readonly podName: string;
  /** Image of the waypoint Deployments the control plane creates for ambit-waypoint Gateways. */
  readonly waypointImage: string;
  /** Command of the waypoint container. */
  readonly waypointCommand: readonly string[];
  /** Control-plane address waypoint pods connect to ('' = ambit-control-plane.<namespace>.svc:15012). */
  readonly waypointControlPlane: string;
  /** Audience of the agents' projected tokens (source kube: checked with TokenReview). */
  readonly tokenAudience: string;
  /** "<namespace>/<name>" of the agents' service account ('' = <namespace>/ambit-agent). */
  readonly agentServiceAccount: string;
}

const dir = (v: string): string => path.resolve(v);
const optionalDir = (v: string): string => (v === '' ? '' : path.resolve(v));
const sourceKind = (v: string, key: string): SourceKind => {
  if (v === 'yaml' || v === 'kube') return v;
  throw invalidSetting(key, v, 'use yaml (a directory, --config-dir) or kube (the Kubernetes API)');
};
const namespacedName = (v: string, key: string): string => {
  if (v !== '' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(v)) throw invalidSetting(key, v, 'use <namespace>/<name>, e.g. ambit-system/ambit-agent');
  return v;
};
const words = (v: string, key: string): string[] => {
  const list = v.trim().split(/\s+/).filter((w) => w !== '');
  if (list.length === 0) throw invalidSetting(key, v, 'use a command, e.g. "ambit waypoint"');
  return list;
};

export const CONFIG_DECLARATIONS: Declarations<ControlPlaneConfig> = {
  source: { env: 'AMBIT_SOURCE', default: 'yaml', help: 'Where configuration comes from: yaml (--config-dir) or kube (the Kubernetes API)', parse: sourceKind },
  configDir: { env: 'AMBIT_CONFIG_DIR', default: '', help: 'Directory of YAML (Pods, Services, policies, routes) to serve; watched; required with --source yaml', parse: optionalDir },
  kubeconfig: { env: 'AMBIT_KUBECONFIG', default: '', help: "kubeconfig for --source kube ('' = $KUBECONFIG, ~/.kube/config, or the pod's service account)", parse: optionalDir },
  stateDir: { env: 'AMBIT_STATE_DIR', default: '/var/lib/ambit/control-plane', help: 'CA root and node tokens (created 0700)', parse: dir },
  grpcListen: { env: 'AMBIT_GRPC_LISTEN', default: DEFAULT_GRPC_LISTEN, help: 'ConfigService + CertificateService address', parse: listen },
  grpcExtraListen: { env: 'AMBIT_GRPC_EXTRA_LISTEN', default: '', help: 'More gRPC addresses, comma-separated: host:port or unix:/abs/path (socket created 0600)', parse: grpcListenList },
  httpListen: { env: 'AMBIT_HTTP_LISTEN', default: DEFAULT_HTTP_LISTEN, help: '/metrics, /healthz/ready, /debug address', parse: listen },
  trustDomain: { env: 'AMBIT_TRUST_DOMAIN', default: 'cluster.local', help: 'SPIFFE trust domain', parse: dnsName },
  rootNamespace: { env: 'AMBIT_ROOT_NAMESPACE', default: 'istio-system', help: 'Namespace whose selector-less policies apply mesh-wide', parse: text },
  domainSuffix: { env: 'AMBIT_DOMAIN_SUFFIX', default: 'cluster.local', help: 'Service hostnames are <svc>.<ns>.svc.<suffix>', parse: dnsName },
  debounceMs: { env: 'AMBIT_PUSH_DEBOUNCE_MS', default: '10', help: 'Quiet time before a config push (ms)', parse: wholeNumber(0, 10_000, 'milliseconds') },
  logLevel: { env: 'AMBIT_LOG_LEVEL', default: 'info', help: 'Log level', parse: logLevel },
  // --source kube only (docs/kubernetes.md).
  namespace: { env: 'AMBIT_NAMESPACE', default: 'ambit-system', help: 'Namespace the control plane runs in (holds its leader-election Lease)', parse: text },
  podName: { env: 'AMBIT_POD_NAME', default: '', help: "This replica's name in the leader-election Lease ('' = the host name)", parse: text },
  waypointImage: { env: 'AMBIT_WAYPOINT_IMAGE', default: 'ambit:latest', help: 'Image of the waypoint Deployments created for ambit-waypoint Gateways', parse: text },
  waypointCommand: { env: 'AMBIT_WAYPOINT_COMMAND', default: 'ambit waypoint', help: 'Command of the waypoint container (space-separated)', parse: words },
  waypointControlPlane: {
    env: 'AMBIT_WAYPOINT_CONTROL_PLANE',
    default: '',
    help: "Control-plane address waypoint pods connect to ('' = ambit-control-plane.<namespace>.svc:15012)",
    parse: text,
  },
  tokenAudience: { env: 'AMBIT_TOKEN_AUDIENCE', default: 'ambit', help: "Audience of the agents' projected service-account tokens (--source kube)", parse: text },
  agentServiceAccount: {
    env: 'AMBIT_AGENT_SERVICE_ACCOUNT',
    default: '',
    help: "<namespace>/<name> of the node agents' service account, whose tokens are node credentials ('' = <namespace>/ambit-agent)",
    parse: namespacedName,
  },
};

/** Builds the config from flags (already parsed by the CLI, camelCase keys) over the environment. */
export function loadControlPlaneConfig(
  flags: Partial<Record<keyof ControlPlaneConfig, string | number | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): ControlPlaneConfig {
  try {
    const config = loadSettings(CONFIG_DECLARATIONS, flags, env);
    if (config.source === 'yaml' && config.configDir === '') {
      throw new SettingError('configDir', 'configDir is required with source yaml: pass --config-dir or set AMBIT_CONFIG_DIR (or --source kube to read the Kubernetes API)');
    }
    return config;
  } catch (e) {
    if (e instanceof SettingError) throw new ControlPlaneError(ControlPlaneErrorCodes.INVALID_OPTION, e.message);
    throw e;
  }
}

