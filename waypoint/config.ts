/**
 * The waypoint's settings: every option, its environment variable, its default and its check,
 * declared here once (`ambit waypoint --help` prints them). Flags override the environment. The
 * result is validated and frozen; a bad value fails start-up naming the key, the value and what to
 * use.
 */
import path from 'node:path';
import { Ports } from '../common/ports';
import {
  invalidSetting,
  listenAddress,
  loadSettings,
  SettingError,
  text,
  wholeNumber,
  type Declarations,
} from '../common/settings/declared-settings';
import { DATA_PLANE_DECLARATIONS, type DataPlaneSettings } from '../common/settings/data-plane-settings';
import { WaypointError, WaypointErrorCodes } from './errors';

export interface WaypointConfig extends DataPlaneSettings {
  /** "<namespace>/<name>" of the waypoint's Gateway; the control plane sends what it serves. */
  readonly name: string;
  /** The service account whose identity the waypoint presents (Istio: the Gateway's name). */
  readonly serviceAccount: string;
  /** Last accepted config snapshot. */
  readonly stateDir: string;
  /** HBONE (mTLS) listener: where agents send traffic bound to this waypoint. */
  readonly hboneListen: string;
  /** A plain HTTP listener routed by Host header ('' = none): benchmarks and non-mesh clients. */
  readonly plainListen: string;
  readonly adminListen: string;
  readonly rootNamespace: string;
  readonly clusterName: string;
  /** Largest request header block accepted (HTTP/1 and HTTP/2); larger → 431. */
  readonly maxHeaderBytes: number;
  /** A client must send its complete request headers within this (slowloris guard). */
  readonly headersTimeoutMs: number;
  /** An idle client connection is closed after this. */
  readonly idleTimeoutMs: number;
  /** OTLP/HTTP traces endpoint ('' = no export), e.g. http://collector:4318/v1/traces. */
  readonly otlpEndpoint: string;
  /** 'stdout' or 'off'. */
  readonly accessLog: 'stdout' | 'off';
}

const dir = (v: string): string => path.resolve(v);

const namespacedName = (v: string, key: string): string => {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(v);
  if (!m) throw invalidSetting(key, v, 'use <namespace>/<gateway name>, e.g. bookinfo/waypoint');
  return v;
};

const optionalListen = (v: string, key: string): string => (v === '' || v === 'none' ? '' : listenAddress(v, key));

const optionalUrl = (v: string, key: string): string => {
  if (v === '' || v === 'none') return '';
  if (!/^https?:\/\/[^/]+/.test(v)) throw invalidSetting(key, v, 'use an http(s) URL such as http://127.0.0.1:4318/v1/traces');
  return v;
};

const accessLogMode = (v: string, key: string): 'stdout' | 'off' => {
  if (v === 'stdout' || v === 'off') return v;
  throw invalidSetting(key, v, "use 'stdout' or 'off'");
};

export const WAYPOINT_DECLARATIONS: Declarations<WaypointConfig> = {
  ...DATA_PLANE_DECLARATIONS,
  name: { env: 'AMBIT_WAYPOINT_NAME', default: undefined, help: 'The waypoint Gateway, <namespace>/<name>', parse: namespacedName },
  serviceAccount: { env: 'AMBIT_WAYPOINT_SERVICE_ACCOUNT', default: '', help: "Service account of the waypoint's identity ('' = the Gateway's name)", parse: text },
  stateDir: { env: 'AMBIT_WAYPOINT_STATE_DIR', default: '/var/lib/ambit/waypoint', help: 'Config snapshot cache', parse: dir },
  hboneListen: { env: 'AMBIT_HBONE_LISTEN', default: `:${Ports.hbone}`, help: 'HBONE (mTLS) listener', parse: listenAddress },
  plainListen: { env: 'AMBIT_PLAIN_LISTEN', default: '', help: "Plain HTTP listener routed by Host ('' = none)", parse: optionalListen },
  adminListen: { env: 'AMBIT_ADMIN_LISTEN', default: `127.0.0.1:${Ports.admin}`, help: 'Admin API (/config_dump, /stats)', parse: listenAddress },
  rootNamespace: { env: 'AMBIT_ROOT_NAMESPACE', default: 'istio-system', help: "Istio's root namespace (GatewayClass-wide policies)", parse: text },
  clusterName: { env: 'AMBIT_CLUSTER_NAME', default: 'Kubernetes', help: 'Cluster label on metrics', parse: text },
  maxHeaderBytes: { env: 'AMBIT_MAX_HEADER_BYTES', default: '61440', help: 'Largest request header block (bytes); larger gets 431', parse: wholeNumber(1024, 1_048_576, 'bytes') },
  headersTimeoutMs: { env: 'AMBIT_HEADERS_TIMEOUT_MS', default: '10000', help: 'Deadline for a client to send its request headers (ms)', parse: wholeNumber(100, 600_000, 'milliseconds') },
  idleTimeoutMs: { env: 'AMBIT_IDLE_TIMEOUT_MS', default: '300000', help: 'Idle client connections close after (ms)', parse: wholeNumber(1000, 86_400_000, 'milliseconds') },
  otlpEndpoint: { env: 'AMBIT_OTLP_ENDPOINT', default: '', help: "OTLP/HTTP traces endpoint ('' = none)", parse: optionalUrl },
  accessLog: { env: 'AMBIT_ACCESS_LOG', default: 'stdout', help: "Per-request JSON access log: 'stdout' or 'off'", parse: accessLogMode },
};

export type WaypointFlags = Partial<Record<keyof WaypointConfig, string | number | boolean | undefined>>;

export function loadWaypointConfig(flags: WaypointFlags, env: NodeJS.ProcessEnv = process.env): WaypointConfig {
  try {
    return loadSettings(WAYPOINT_DECLARATIONS, flags, env);
  } catch (e) {
    if (e instanceof SettingError) throw new WaypointError(WaypointErrorCodes.INVALID_OPTION, e.message);
    throw e;
  }
}

/** The waypoint's Gateway namespace and name. */
export function waypointRef(config: Pick<WaypointConfig, 'name'>): { namespace: string; name: string } {
  const [namespace, name] = config.name.split('/');
  return { namespace, name };
}
