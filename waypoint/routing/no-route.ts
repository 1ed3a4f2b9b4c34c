/**
 * The body of the waypoint's 404 when routes are attached to a Service but none matched. Meant
 * for the person curling the service: which Service, which routes, what the request looked like,
 * and what to check. Route names only: no rule contents, which may be internal.
 */
import { pathOnly, type RequestFacts } from '../pipeline/request-facts';
import type { ServiceRef } from './route-table';

export function noRouteBody(service: ServiceRef, port: number, req: RequestFacts, routes: string[]): string {
  const n = routes.length;
  const lines = [
    `no route matched: ${req.method} ${pathOnly(req.path)}${req.grpc ? ' (gRPC)' : ''}`,
    `service ${service.namespace}/${service.name} (${service.hostname}) port ${port} has ${n} route${n === 1 ? '' : 's'} attached:`,
    ...routes.map((r) => `  - ${r}`),
    'none of their rules matched the method, path, headers and query of this request.',
    'check:',
    '  - the matches of these routes (kubectl get httproute,grpcroute -n <namespace> -o yaml);',
    '  - that a rule covers this path (a rule without matches catches everything: PathPrefix "/");',
    '  - parentRefs[].port: a route attached to another port of this Service does not apply here;',
    '  - GRPCRoutes only match gRPC requests, and HTTPRoutes on a port with GRPCRoutes are ignored.',
  ];
  return lines.join('\n') + '\n';
}
