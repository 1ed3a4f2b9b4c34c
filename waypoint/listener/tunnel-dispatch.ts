/**
 * What happens inside an accepted HBONE tunnel: the :authority names a Service VIP (or a workload
 * IP) and port. The port's appProtocol decides HTTP vs TCP where it is declared (Istio's protocol
 * selection); otherwise the first bytes do (protocol-sniff.ts). HTTP goes to the HTTP servers
 * (HTTP/1.1 or HTTP/2 with prior knowledge); anything else is proxied as TCP to an endpoint.
 */
import type { Duplex } from 'node:stream';
import type { HboneRequest } from '../../common/hbone/server-request';
import type { Logger } from '../../common/log';
import type { WaypointView } from '../model/waypoint-view';
import type { DownstreamContext } from './downstream-context';
import type { HttpFront } from './http-front';
import { sniffProtocol } from './protocol-sniff';

const HTTP_PROTOCOLS = new Set(['http', 'http2', 'grpc', 'grpc-web', 'h2c', 'kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss']);
const TCP_PROTOCOLS = new Set(['tcp', 'tls', 'https', 'mongo', 'mysql', 'redis']);

/** How long to wait for a client's first bytes before treating the connection as TCP. */
const SNIFF_TIMEOUT_MS = 5_000;

export interface TunnelDispatchDeps {
  readonly view: () => WaypointView;
  readonly http: HttpFront;
  readonly tcp: (stream: Duplex, ctx: DownstreamContext) => void;
  readonly logger: Logger;
}

/** 'http', 'tcp' or undefined (unknown: sniff) for a dialed address:port. */
export function declaredProtocol(view: WaypointView, address: string, port: number): 'http' | 'tcp' | undefined {
  const svc = view.serviceAt(address);
  const sp = svc ? view.portOf(svc, port) : undefined;
  const p = (sp?.appProtocol ?? '').toLowerCase();
  if (HTTP_PROTOCOLS.has(p)) return 'http';
  if (TCP_PROTOCOLS.has(p)) return 'tcp';
  return undefined;
}

export async function dispatchTunnel(deps: TunnelDispatchDeps, req: HboneRequest): Promise<void> {
  const view = deps.view();
  const { host, port } = req.authority;
  const svc = view.serviceAt(host);
  if (!view.serves(host) || (svc && !view.portOf(svc, port))) {
    const what = svc && view.serves(host) ? `service ${svc.namespace}/${svc.name} has no port ${port}` : `nothing at ${host} is bound to this waypoint (istio.io/use-waypoint)`;
    req.reject(404, `waypoint refuses ${host}:${port}: ${what}`);
    return;
  }
  let stream: Duplex;
  try {
    stream = req.accept();
  } catch {
    return;
  }
  const ctx: DownstreamContext = {
    peer: {
      address: req.remoteAddress,
      port: req.remotePort,
      identity: req.peer.uri,
      principal: `${req.peer.trustDomain}/ns/${req.peer.namespace}/sa/${req.peer.serviceAccount}`,
      namespace: req.peer.namespace,
    },
    target: { address: host, port },
    mtls: true,
    tunnelHeaders: req.headers,
  };
  const declared = declaredProtocol(view, host, port);
  if (declared === 'tcp') return deps.tcp(stream, ctx);
  const sniffed = await sniffProtocol(stream, SNIFF_TIMEOUT_MS);
  if (sniffed === 'tcp') {
    if (declared === 'http') {
      deps.logger.debug({ target: `${host}:${port}` }, 'an HTTP port received non-HTTP bytes; refusing');
      stream.destroy();
      return;
    }
    return deps.tcp(stream, ctx);
  }
  deps.http.accept(stream, sniffed, ctx);
}
