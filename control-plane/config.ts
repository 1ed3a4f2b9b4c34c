/**
 * The standalone control plane's settings: every option, its environment variable, its default and
 * its check, declared here once. `ambit control-plane` flags override the environment. The result
 * is validated and frozen; a bad value fails start-up naming the key, the value and what to use.
 */
import path from 'node:path';
import type { LogLevel } from '../common/log';
import {
  dnsName,
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

export interface ControlPlaneConfig {
  /** Directory of Kubernetes-shaped YAML to serve (watched). */
  readonly configDir: string;
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
}

const dir = (v: string): string => path.resolve(v);

export const CONFIG_DECLARATIONS: Declarations<ControlPlaneConfig> = {
  configDir: { env: 'AMBIT_CONFIG_DIR', default: undefined, help: 'Directory of YAML (Pods, Services, policies, routes) to serve; watched', parse: dir },
  stateDir: { env: 'AMBIT_STATE_DIR', default: '/var/lib/ambit/control-plane', help: 'CA root and node tokens (created 0700)', parse: dir },
  grpcListen: { env: 'AMBIT_GRPC_LISTEN', default: DEFAULT_GRPC_LISTEN, help: 'ConfigService + CertificateService address', parse: listen },
  grpcExtraListen: { env: 'AMBIT_GRPC_EXTRA_LISTEN', default: '', help: 'More gRPC addresses, comma-separated: host:port or unix:/abs/path (socket created 0600)', parse: grpcListenList },
  httpListen: { env: 'AMBIT_HTTP_LISTEN', default: DEFAULT_HTTP_LISTEN, help: '/metrics, /healthz/ready, /debug address', parse: listen },
  trustDomain: { env: 'AMBIT_TRUST_DOMAIN', default: 'cluster.local', help: 'SPIFFE trust domain', parse: dnsName },
  rootNamespace: { env: 'AMBIT_ROOT_NAMESPACE', default: 'istio-system', help: 'Namespace whose selector-less policies apply mesh-wide', parse: text },
  domainSuffix: { env: 'AMBIT_DOMAIN_SUFFIX', default: 'cluster.local', help: 'Service hostnames are <svc>.<ns>.svc.<suffix>', parse: dnsName },
  debounceMs: { env: 'AMBIT_PUSH_DEBOUNCE_MS', default: '10', help: 'Quiet time before a config push (ms)', parse: wholeNumber(0, 10_000, 'milliseconds') },
  logLevel: { env: 'AMBIT_LOG_LEVEL', default: 'info', help: 'Log level', parse: logLevel },
};

/** Builds the config from flags (already parsed by the CLI, camelCase keys) over the environment. */
export function loadControlPlaneConfig(
  flags: Partial<Record<keyof ControlPlaneConfig, string | number | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): ControlPlaneConfig {
  try {
    return loadSettings(CONFIG_DECLARATIONS, flags, env);
  } catch (e) {
    if (e instanceof SettingError) throw new ControlPlaneError(ControlPlaneErrorCodes.INVALID_OPTION, e.message);
    throw e;
  }
}

