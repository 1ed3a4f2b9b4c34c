/**
 * Where a request goes once a rule matched: the weighted backendRef's Service and port (a route's
 * backend may be another service than the one the client dialed: a canary, a split), or, with no
 * route attached, the dialed service itself. Also which HTTP version to speak upstream: HTTP/2 for
 * gRPC and for ports whose appProtocol says so, HTTP/1.1 otherwise (what most apps serve).
 */
import type { BackendRef__Output } from '../../common/proto/generated/ambit/v1/BackendRef';
import type { Service, WaypointView } from '../model/waypoint-view';

export interface Backend {
  readonly service: Service;
  readonly port: number;
}

export function resolveBackend(view: WaypointView, ref: BackendRef__Output, fallbackPort: number): Backend | undefined {
  const service = (ref.serviceHostname ? view.serviceByHostname(ref.serviceHostname) : undefined) ?? (ref.serviceName ? view.serviceNamed(ref.serviceNamespace, ref.serviceName) : undefined);
  if (!service) return undefined;
  return { service, port: ref.port || fallbackPort };
}

const H2_PROTOCOLS = new Set(['http2', 'grpc', 'h2c', 'grpc-web', 'kubernetes.io/h2c']);

export function upstreamVersion(view: WaypointView, backend: Backend, grpc: boolean): 'http1' | 'h2' {
  if (grpc) return 'h2';
  const p = view.portOf(backend.service, backend.port);
  return p && H2_PROTOCOLS.has(p.appProtocol.toLowerCase()) ? 'h2' : 'http1';
}
