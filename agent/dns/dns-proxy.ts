/**
 * The agent's DNS proxy (port 15053 in every enrolled pod), ztunnel-style:
 * A/AAAA for the mesh's Service hostnames are answered from the agent's
 * model, everything else goes to the upstream resolver. One DnsProxy per node
 * holds the upstream client; addPod()/removePod() open and close each pod's
 * sockets. startPodDnsProxy() is the one-pod form with its own upstream.
 *
 * Order on pod add: start the pod's DNS proxy, then enroll the pod (capture
 * sends port 53 to 15053 from the moment the cgroup is enrolled). On delete:
 * unenroll, then removePod().
 */
import { silentLogger, type Logger } from '../../common/log';
import { DnsError, DnsErrorCodes } from './errors';
import type { DnsHooks } from './dns-handler';
import { startPodDnsServer, type PodDnsServer } from './pod-dns-server';
import type { DnsLookup } from './service-dns-table';
import { DnsUpstream, NoUpstream, type DnsForwarder, type DnsUpstreamOptions, type UpstreamAddress } from './upstream-client';

export interface DnsPodInfo {
  /** The pod's network namespace fd; the caller keeps it open until removePod()/close(). */
  netnsFd: number;
  pod: { namespace: string; name?: string };
  /** Also serve [::1]:15053 (default true; skipped when the pod has no IPv6 loopback). */
  ipv6?: boolean;
  /** The pod's search path, if not the Kubernetes default `<ns>.svc.<domain> svc.<domain> <domain>`. */
  searchDomains?: readonly string[];
}

export interface DnsProxyOptions {
  lookup: DnsLookup;
  /** The resolver for every name the mesh does not know (the cluster DNS, or the node's resolver). */
  upstream: UpstreamAddress;
  /** No upstream at all: `upstream` is ignored and names outside the mesh get SERVFAIL at once. */
  noUpstream?: boolean;
  /** Timeouts, retries, SO_MARK and netns of the upstream sockets. */
  upstreamOptions?: Omit<DnsUpstreamOptions, 'upstream' | 'logger'>;
  /** Default cluster.local. */
  clusterDomain?: string;
  /** Default 15053. */
  port?: number;
  /** SO_MARK of the in-pod sockets; default AGENT_SOCKET_MARK. */
  mark?: number;
  logger?: Logger;
  hooks?: DnsHooks;
}

export class DnsProxy {
  private readonly pods = new Map<string, PodDnsServer>();
  private readonly starting = new Set<string>();
  private readonly upstream: DnsForwarder & { close(): void };
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly opts: DnsProxyOptions) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'dns' });
    this.upstream = opts.noUpstream
      ? new NoUpstream()
      : new DnsUpstream({ ...opts.upstreamOptions, upstream: opts.upstream, logger: opts.logger });
  }

  /** Open the pod's 15053 sockets. `key` names the pod (e.g. its uid); adding a key twice is an error. */
  async addPod(key: string, info: DnsPodInfo): Promise<void> {
    if (this.closed) throw new DnsError(DnsErrorCodes.CLOSED, 'the DNS proxy is closed');
    if (this.pods.has(key) || this.starting.has(key)) {
      throw new DnsError(DnsErrorCodes.INVALID_CONFIG, `pod ${key} already has a DNS proxy; remove it first`);
    }
    this.starting.add(key);
    try {
      const server = await startPodDnsServer({
        netnsFd: info.netnsFd,
        ipv6: info.ipv6,
        port: this.opts.port,
        mark: this.opts.mark,
        logger: this.opts.logger,
        handler: {
          namespace: info.pod.namespace,
          pod: info.pod.name,
          clusterDomain: this.opts.clusterDomain,
          searchDomains: info.searchDomains,
          lookup: this.opts.lookup,
          forwarder: this.upstream,
          logger: this.log.child({ pod: info.pod.name, namespace: info.pod.namespace }),
          hooks: this.opts.hooks,
        },
      });
      if (this.closed) {
        await server.close();
        throw new DnsError(DnsErrorCodes.CLOSED, 'the DNS proxy was closed while the pod was being added');
      }
      this.pods.set(key, server);
    } finally {
      this.starting.delete(key);
    }
  }

  /** Close the pod's sockets. False when the pod had none. */
  async removePod(key: string): Promise<boolean> {
    const server = this.pods.get(key);
    if (!server) return false;
    this.pods.delete(key);
    await server.close();
    return true;
  }

  podKeys(): string[] {
    return [...this.pods.keys()];
  }

  /** What the pod's proxy serves, e.g. ['udp 127.0.0.1:15053', 'tcp 127.0.0.1:15053', ...]. */
  listening(key: string): readonly string[] | undefined {
    return this.pods.get(key)?.listening;
  }

  /** Close every pod's sockets and the upstream client. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const servers = [...this.pods.values()];
    this.pods.clear();
    await Promise.all(servers.map((s) => s.close()));
    this.upstream.close();
  }
}

export interface StartPodDnsProxyOptions extends DnsPodInfo, Omit<DnsProxyOptions, 'hooks'> {
  hooks?: DnsHooks;
}

export interface PodDnsProxy {
  readonly listening: readonly string[];
  close(): Promise<void>;
}

/** One pod's DNS proxy with its own upstream client (a node serving many pods wants DnsProxy). */
export async function startPodDnsProxy(opts: StartPodDnsProxyOptions): Promise<PodDnsProxy> {
  const proxy = new DnsProxy(opts);
  const key = opts.pod.name ?? 'pod';
  try {
    await proxy.addPod(key, opts);
  } catch (e) {
    await proxy.close();
    throw e;
  }
  return { listening: proxy.listening(key) ?? [], close: () => proxy.close() };
}
