/**
 * The standalone control plane's settings: every option, its environment variable, its default and
 * its check, declared here once. `ambit control-plane` flags override the environment. The result
 * is validated and frozen; a bad value fails start-up naming the key, the value and what to use.
 */
import path from 'node:path';
import { isLogLevel, LOG_LEVELS, LogLevel } from '../common/log';
import { ControlPlaneError, ControlPlaneErrorCodes } from './errors';
import { parseListenAddress } from './listen-address';
import { DEFAULT_GRPC_LISTEN, DEFAULT_HTTP_LISTEN } from './control-plane';

export interface ControlPlaneConfig {
  /** Directory of Kubernetes-shaped YAML to serve (watched). */
  readonly configDir: string;
  /** CA root and node tokens. */
  readonly stateDir: string;
  readonly grpcListen: string;
  readonly httpListen: string;
  readonly trustDomain: string;
  readonly rootNamespace: string;
  readonly domainSuffix: string;
  readonly debounceMs: number;
  readonly logLevel: LogLevel;
}

interface Declared<K extends keyof ControlPlaneConfig> {
  env: string;
  default: string | undefined;
  help: string;
  parse(value: string, key: string): ControlPlaneConfig[K];
}

const invalid = (key: string, value: string, what: string): ControlPlaneError =>
  new ControlPlaneError(ControlPlaneErrorCodes.INVALID_OPTION, `${key}="${value}" is invalid: ${what}`);

const text = (v: string): string => v;
const dir = (v: string): string => path.resolve(v);
const listen = (v: string, key: string): string => (parseListenAddress(key, v), v);
const dnsName = (v: string, key: string): string => {
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(v)) throw invalid(key, v, 'use a lowercase DNS name, e.g. cluster.local');
  return v;
};

export const CONFIG_DECLARATIONS: { [K in keyof ControlPlaneConfig]: Declared<K> } = {
  configDir: { env: 'AMBIT_CONFIG_DIR', default: undefined, help: 'Directory of YAML (Pods, Services, policies, routes) to serve; watched', parse: dir },
  stateDir: { env: 'AMBIT_STATE_DIR', default: '/var/lib/ambit/control-plane', help: 'CA root and node tokens (created 0700)', parse: dir },
  grpcListen: { env: 'AMBIT_GRPC_LISTEN', default: DEFAULT_GRPC_LISTEN, help: 'ConfigService + CertificateService address', parse: listen },
  httpListen: { env: 'AMBIT_HTTP_LISTEN', default: DEFAULT_HTTP_LISTEN, help: '/metrics, /healthz/ready, /debug address', parse: listen },
  trustDomain: { env: 'AMBIT_TRUST_DOMAIN', default: 'cluster.local', help: 'SPIFFE trust domain', parse: dnsName },
  rootNamespace: { env: 'AMBIT_ROOT_NAMESPACE', default: 'istio-system', help: 'Namespace whose selector-less policies apply mesh-wide', parse: text },
  domainSuffix: { env: 'AMBIT_DOMAIN_SUFFIX', default: 'cluster.local', help: 'Service hostnames are <svc>.<ns>.svc.<suffix>', parse: dnsName },
  debounceMs: {
    env: 'AMBIT_PUSH_DEBOUNCE_MS',
    default: '10',
    help: 'Quiet time before a config push (ms)',
    parse: (v, key) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 10_000) throw invalid(key, v, 'use a whole number of milliseconds, 0-10000');
      return n;
    },
  },
  logLevel: {
    env: 'AMBIT_LOG_LEVEL',
    default: 'info',
    help: 'Log level',
    parse: (v, key) => {
      if (!isLogLevel(v)) throw invalid(key, v, `use one of ${LOG_LEVELS.join(', ')}`);
      return v;
    },
  },
};

/** Builds the config from flags (already parsed by the CLI, camelCase keys) over the environment. */
export function loadControlPlaneConfig(flags: Partial<Record<keyof ControlPlaneConfig, string | number | undefined>>, env: NodeJS.ProcessEnv = process.env): ControlPlaneConfig {
  const out: Record<string, unknown> = {};
  for (const [key, decl] of Object.entries(CONFIG_DECLARATIONS) as Array<[keyof ControlPlaneConfig, Declared<keyof ControlPlaneConfig>]>) {
    const flag = flags[key];
    const raw = flag !== undefined ? String(flag) : env[decl.env] ?? decl.default;
    if (raw === undefined) {
      throw new ControlPlaneError(ControlPlaneErrorCodes.INVALID_OPTION, `${key} is required: pass --${kebab(key)} or set ${decl.env}`);
    }
    out[key] = decl.parse(raw, key);
  }
  return Object.freeze(out) as unknown as ControlPlaneConfig;
}

export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
