/**
 * One connection to an endpoint, as the HTTP clients and the TCP proxy use it: an HBONE tunnel
 * (pooled HTTP/2 CONNECT over mTLS, the endpoint's identity checked) to a mesh workload's
 * address:15008 with :authority = address:targetPort, or plain TCP for a workload outside the
 * mesh. Failures are classified so retries and outlier detection can tell a connect failure from
 * a refusal by the destination's agent.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { formatAuthority } from '../../common/hbone/authority';
import { HboneError } from '../../common/hbone/errors';
import type { TunnelHeaders } from '../../common/hbone/headers';
import type { HbonePool } from '../../common/hbone/pool';
import { workloadIdentity } from '../../common/identity/workload-identity';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import { Ports } from '../../common/ports';
import type { ServiceEndpoint } from '../model/waypoint-view';

export class UpstreamConnectError extends Error {
  constructor(
    message: string,
    /** HTTP status the destination's agent answered the CONNECT with, if it did. */
    readonly tunnelStatus?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamConnectError';
  }
}

export interface ConnectorDeps {
  readonly pool: HbonePool;
  /** The waypoint's own certificate (newest after rotation). */
  readonly certificate: () => WorkloadCertificate | undefined;
  readonly connectTimeoutMs: number;
}

export class UpstreamConnector {
  constructor(private readonly deps: ConnectorDeps) {}

  async connect(ep: ServiceEndpoint, headers?: TunnelHeaders): Promise<Duplex> {
    return ep.hbone ? this.tunnel(ep, headers) : this.plain(ep);
  }

  private async tunnel(ep: ServiceEndpoint, headers?: TunnelHeaders): Promise<Duplex> {
    // HBONE needs the workload's identity to verify; an address endpoint is never hbone.
    if (!ep.workload) throw new UpstreamConnectError(`HBONE to ${formatAuthority(ep.address, ep.port)} needs a mesh workload; this endpoint is an address outside the mesh`);
    const workload = ep.workload;
    const cert = this.deps.certificate();
    if (!cert) throw new UpstreamConnectError('the waypoint has no certificate yet; it cannot open HBONE to the endpoint');
    const authority = formatAuthority(ep.address, ep.port);
    try {
      const t = await this.deps.pool.open({
        scope: 'waypoint',
        source: cert,
        destinationAddress: ep.address,
        destinationPort: Ports.hbone,
        expectedIdentity: workloadIdentity(workload),
        authority,
        headers,
      });
      return t.stream;
    } catch (e) {
      const status = e instanceof HboneError ? e.status : undefined;
      throw new UpstreamConnectError(`HBONE to ${authority} (${workload.namespace}/${workload.name}) failed: ${(e as Error).message}`, status, { cause: e });
    }
  }

  private plain(ep: ServiceEndpoint): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: ep.address, port: ep.port, allowHalfOpen: true });
      sock.setNoDelay(true);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new UpstreamConnectError(`connect to ${ep.address}:${ep.port} timed out after ${this.deps.connectTimeoutMs} ms`));
      }, this.deps.connectTimeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(sock);
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(new UpstreamConnectError(`connect to ${ep.address}:${ep.port} failed: ${e.message}`, undefined, { cause: e }));
      });
    });
  }
}
