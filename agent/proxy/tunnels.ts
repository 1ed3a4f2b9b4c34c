/**
 * Opens HBONE tunnels for local pods: the source pod's certificate (fetched on first use), a
 * pooled connection per (source pod, source identity, destination identity, destination address)
 * dialed from inside the source pod's network namespace, so the peer sees the pod's own IP.
 */
import type { Duplex } from 'node:stream';
import type { HbonePool } from '../../common/hbone/pool';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import { dialInNetns } from '../../common/net/netns-dial';
import { AGENT_SOCKET_MARK } from '../../common/ports';
import type { LocalPod } from './local-pod';
import type { Hop, } from './outbound-plan';
import { identityOf, type TunnelOpener } from './outbound';

export interface CertificateSource {
  /** The pod identity's current certificate, waiting for the first one if needed. */
  certificateFor(pod: LocalPod): Promise<WorkloadCertificate>;
}

export class HboneTunnels implements TunnelOpener {
  constructor(
    private readonly pool: HbonePool,
    private readonly certs: CertificateSource,
    private readonly connectTimeoutMs: number,
  ) {}

  async open(pod: LocalPod, hop: Extract<Hop, { kind: 'hbone' }>, headers: Record<string, string>): Promise<{ stream: Duplex; peerIdentity: string }> {
    const source = await this.certs.certificateFor(pod);
    const tunnel = await this.pool.open({
      scope: pod.uid,
      source,
      destinationAddress: hop.address,
      destinationPort: hop.hbonePort,
      expectedIdentity: identityOf(hop.workload),
      authority: hop.authority,
      headers,
      dial: (address: string, port: number) => dialInNetns(pod.netnsPath, address, port, { mark: AGENT_SOCKET_MARK, noDelay: true, timeoutMs: this.connectTimeoutMs }),
    });
    return { stream: tunnel.stream, peerIdentity: tunnel.peerIdentity.uri };
  }
}
