/**
 * receive: the first stage. Reads the request once into RequestFacts and finds what it is for:
 * through HBONE, the Service (VIP) or workload (IP) the client dialed; on the plain listener, the
 * Service its Host header names. The client's workload is looked up by its address (the
 * `forwarded: for=` address the source agent sent, else the tunnel's peer address).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { normalizePath } from './path-normalization';
import { hostOnly } from './request-facts';
import type { RequestFacts } from './request-facts';
import type { DownstreamRequest } from '../listener/http-front';
import type { DownstreamContext } from '../listener/downstream-context';
import type { Service, WaypointView } from '../model/waypoint-view';

export interface Received {
  readonly facts: RequestFacts;
  readonly service: Service | undefined;
  readonly port: number;
}

export function receive(req: DownstreamRequest, ctx: DownstreamContext, view: WaypointView, plainPort: number): Received {
  const headers: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) if (!k.startsWith(':')) headers[k] = v;
  const host = String(req.headers[':authority'] ?? req.headers.host ?? '').toLowerCase();
  const contentType = headers['content-type'];
  const grpc = typeof contentType === 'string' && contentType.startsWith('application/grpc');
  let target = ctx.target;
  let service: Service | undefined;
  if (target) {
    service = view.serviceAt(target.address) ?? view.workloadTarget(target.address, target.port);
  } else {
    // Plain listener: the Host header names the service; its port (else the service's first) is the port.
    service = view.serviceForHost(hostOnly(host));
    const hostPort = Number(host.slice(hostOnly(host).length + 1)) || 0;
    const port = service && hostPort && service.ports.some((p) => p.servicePort === hostPort) ? hostPort : (service?.ports[0]?.servicePort ?? plainPort);
    target = { address: service?.vips[0] ?? '', port };
  }
  const facts: RequestFacts = {
    method: (req.method ?? 'GET').toUpperCase(),
    path: normalizePath(req.url ?? '/'),
    host,
    headers,
    protocol: req.httpVersionMajor === 2 ? 'HTTP/2' : 'HTTP/1.1',
    grpc,
    source: ctx.peer,
    destination: target,
  };
  return { facts, service, port: target.port };
}

/** The client's own address: `forwarded: for=` from the source agent, else the connection's peer. */
export function clientAddress(ctx: DownstreamContext): string {
  const fwd = ctx.tunnelHeaders?.forwarded;
  const m = fwd ? /for="?\[?([0-9a-fA-F:.]+)\]?/.exec(fwd) : null;
  return m ? m[1] : ctx.peer.address;
}
