/**
 * The agent's DNS proxy: one per node (one upstream client), a 15053 server per enrolled pod, and
 * the mesh's Service hostnames -> VIPs table rebuilt from each config version. The upstream is the
 * configured resolver, the first nameserver of /etc/resolv.conf, or none (names outside the mesh
 * get SERVFAIL at once).
 */
import type { Logger } from '../common/log';
import { AGENT_SOCKET_MARK } from '../common/ports';
import type { AgentConfig } from './config';
import { DnsProxy, ServiceDnsTable, upstreamFromResolvConf, type UpstreamAddress } from './dns';
import type { MeshView } from './model/mesh-view';
import type { LocalPod } from './proxy/local-pod';

export class AgentDns {
  private readonly table = new ServiceDnsTable();
  private readonly proxy: DnsProxy | undefined;

  constructor(
    settings: AgentConfig,
    private readonly log: Logger,
    view: () => MeshView,
  ) {
    void view;
    if (!settings.dnsCapture) return;
    this.proxy = new DnsProxy({
      lookup: this.table,
      upstream: upstreamOf(settings.dnsUpstream),
      noUpstream: settings.dnsUpstream === 'none',
      // Not that the agent's own sockets are captured (it runs outside the pods' cgroups), but so
      // they never could be.
      upstreamOptions: { mark: AGENT_SOCKET_MARK },
      clusterDomain: settings.domainSuffix,
      logger: log,
    });
  }

  /** Opens the pod's 15053 sockets; returns their closer. */
  async addPod(pod: LocalPod, netnsFd: number): Promise<() => Promise<void>> {
    const proxy = this.proxy;
    if (!proxy) return async () => undefined;
    await proxy.addPod(pod.uid, { netnsFd, pod: { namespace: pod.namespace, name: pod.name }, ipv6: pod.ips.some((ip) => ip.includes(':')) });
    return async () => void (await proxy.removePod(pod.uid));
  }

  update(view: MeshView): void {
    this.table.replace([...view.services.values()].filter((s) => s.hostname).map((s) => ({ hostname: s.hostname, vips: s.vips })));
  }

  async close(): Promise<void> {
    await this.proxy?.close();
  }
}

function upstreamOf(setting: string): UpstreamAddress {
  if (setting === 'none') return { address: '127.0.0.1', port: 53 }; // never used: noUpstream
  if (setting === 'resolv.conf') return upstreamFromResolvConf('/etc/resolv.conf');
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(setting)!;
  return { address: m[1], port: Number(m[2]) };
}
