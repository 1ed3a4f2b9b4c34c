/**
 * The agent's settings: every option, its environment variable, its default and its check,
 * declared here once (`ambit agent --help` prints them). Flags override the environment. The
 * result is validated and frozen; a bad value fails start-up naming the key, the value and what to
 * use.
 */
import net from 'node:net';
import path from 'node:path';
import { Ports } from '../common/ports';
import {
  boolean,
  dnsName,
  listenAddress,
  loadSettings,
  SettingError,
  text,
  invalidSetting,
  type Declarations,
} from '../common/settings/declared-settings';
import { DATA_PLANE_DECLARATIONS, type DataPlaneSettings } from '../common/settings/data-plane-settings';
import { AgentError, AgentErrorCodes } from './errors';

export interface AgentConfig extends DataPlaneSettings {
  /** This node's name; the control plane sends this node's view and issues its pods' identities. */
  readonly node: string;
  /** cgroup-v2 directory under which pods are enrolled; the capture programs attach here. */
  readonly cgroupRoot: string;
  /** Allow cgroupRoot to be the machine's cgroup-v2 root (a dedicated Kubernetes node). */
  readonly allowHostRootCgroup: boolean;
  /** bpffs directory for pinned maps and links ('' = none). */
  readonly pinDir: string;
  /** The enrollment socket (SOCK_SEQPACKET, mode 0600). */
  readonly enrollmentSocket: string;
  /** Where the CNI plugin records the pods it enrolled; re-enrolled at start ('' = none). */
  readonly cniRecordDir: string;
  /** Last accepted config snapshot and other state. */
  readonly stateDir: string;
  readonly adminListen: string;
  /** Upstream resolver host:port for names outside the mesh; 'resolv.conf' = its first nameserver; 'none' = SERVFAIL. */
  readonly dnsUpstream: string;
  /** Capture pods' DNS (port 53) and answer it with the agent's DNS proxy. */
  readonly dnsCapture: boolean;
  readonly domainSuffix: string;
  /** Namespace whose selector-less policies apply mesh-wide (Istio's root namespace). */
  readonly rootNamespace: string;
  /** Source addresses of kubelet probes: their plaintext connections bypass mTLS policy (Istio's probe exemption). */
  readonly probeSources: readonly string[];
  /** The cluster label on metrics (Istio's default name). */
  readonly clusterName: string;
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
  ...DATA_PLANE_DECLARATIONS,
  node: { env: 'AMBIT_NODE_NAME', default: undefined, help: 'Name of this node (as the control plane knows it)', parse: dnsName },
  cgroupRoot: { env: 'AMBIT_CGROUP_ROOT', default: undefined, help: 'cgroup-v2 directory under which pods are enrolled', parse: dir },
  allowHostRootCgroup: {
    env: 'AMBIT_ALLOW_HOST_ROOT_CGROUP',
    default: 'false',
    help: "Allow attaching at the machine's cgroup-v2 root (dedicated Kubernetes nodes only)",
    parse: boolean,
  },
  pinDir: { env: 'AMBIT_PIN_DIR', default: '', help: "bpffs directory for pinned maps and links ('' = none)", parse: optionalDir },
  enrollmentSocket: { env: 'AMBIT_ENROLLMENT_SOCKET', default: '/var/run/ambit/enrollment.sock', help: 'Enrollment socket path', parse: dir },
  cniRecordDir: {
    env: 'AMBIT_CNI_RECORD_DIR',
    default: '',
    help: "Directory where the CNI plugin records enrolled pods; they are re-enrolled at start ('' = none; Kubernetes: /var/run/ambit/cni-pods)",
    parse: optionalDir,
  },
  stateDir: { env: 'AMBIT_AGENT_STATE_DIR', default: '/var/lib/ambit/agent', help: 'Config snapshot cache and other state', parse: dir },
  adminListen: { env: 'AMBIT_ADMIN_LISTEN', default: `127.0.0.1:${Ports.admin}`, help: 'Admin API (/config_dump, /debug/connections, /logging)', parse: listenAddress },
  dnsUpstream: { env: 'AMBIT_DNS_UPSTREAM', default: 'resolv.conf', help: "Resolver for names outside the mesh: ip:port, 'resolv.conf' or 'none'", parse: resolver },
  dnsCapture: { env: 'AMBIT_DNS_CAPTURE', default: 'true', help: "Capture pods' DNS and answer it in the agent", parse: boolean },
  domainSuffix: { env: 'AMBIT_DOMAIN_SUFFIX', default: 'cluster.local', help: 'Service hostnames are <svc>.<ns>.svc.<suffix>', parse: dnsName },
  rootNamespace: { env: 'AMBIT_ROOT_NAMESPACE', default: 'istio-system', help: 'Namespace whose selector-less policies apply mesh-wide', parse: text },
  probeSources: {
    env: 'AMBIT_PROBE_SOURCES',
    default: '169.254.7.127',
    help: 'Comma-separated source IPs of kubelet probes (exempt from PeerAuthentication and authorization)',
    parse: ipList,
  },
  clusterName: { env: 'AMBIT_CLUSTER_NAME', default: 'Kubernetes', help: 'Cluster name sent in HBONE baggage (k8s.cluster.name)', parse: text },
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
