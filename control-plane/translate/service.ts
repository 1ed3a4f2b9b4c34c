/**
 * Service -> Service: hostname, cluster IPs, ports (with Istio's protocol selection from the port
 * name or appProtocol), ready endpoints, and the waypoint binding. Endpoints come from the ready
 * pods the selector matches; a Service without a selector has its endpoints from its
 * EndpointSlices instead (endpoint-slices.ts, which says why selector Services ignore theirs).
 */
import type { Endpoint } from '../../common/proto/generated/ambit/v1/Endpoint';
import type { Service as ServiceResource } from '../../common/proto/generated/ambit/v1/Service';
import type { ServicePort } from '../../common/proto/generated/ambit/v1/ServicePort';
import type { Namespace, Pod, Service, ServicePortSpec } from '../kube/objects';
import { serviceHostname, TranslateContext, Warn } from './context';
import { hasSelector, sliceEndpoints } from './endpoint-slices';
import { clusterIps, isWaypointGateway, resolveWaypoint } from './waypoints';
import { isPodReady, isPodTerminal, podIps, workloadUid } from './workload';

const KNOWN_PROTOCOLS = new Set(['http', 'http2', 'https', 'grpc', 'grpc-web', 'tcp', 'tls', 'mongo', 'redis', 'mysql']);

/** Istio protocol selection: appProtocol, else the port name "<protocol>[-<suffix>]". */
export function portProtocol(p: ServicePortSpec): string {
  const explicit = p.appProtocol?.toLowerCase();
  if (explicit !== undefined && explicit !== '') return explicit.replace(/^kubernetes\.io\//, '');
  const name = (p.name ?? '').toLowerCase();
  for (const proto of KNOWN_PROTOCOLS) {
    if (name === proto || name.startsWith(`${proto}-`)) return proto;
  }
  return '';
}

/** The pod's port for a service port's targetPort (a number, a container port name, or unset). */
function targetPortOn(pod: Pod, p: ServicePortSpec): number | undefined {
  const t = p.targetPort;
  if (t === undefined) return p.port;
  if (typeof t === 'number') return t;
  if (/^[0-9]+$/.test(t)) return Number(t);
  for (const c of pod.spec?.containers ?? []) {
    const found = c.ports?.find((cp) => cp.name === t && (cp.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
    if (found !== undefined) return found.containerPort;
  }
  return undefined;
}

/** The ready pods `selector` matches, with named target ports resolved per pod, sorted. */
function podEndpoints(ctx: TranslateContext, namespace: string, selector: Readonly<Record<string, string>>, specPorts: readonly ServicePortSpec[]): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const pod of ctx.kube.podsMatching<Pod>(namespace, selector)) {
    if (isPodTerminal(pod) || !isPodReady(pod) || podIps(pod).length === 0) continue;
    const portMap: Record<number, number> = {};
    for (const p of specPorts) {
      const target = targetPortOn(pod, p);
      if (target !== undefined) portMap[p.port] = target;
    }
    // Kubernetes leaves a pod out of a port's endpoints when it cannot resolve a named target.
    if (Object.keys(portMap).length === 0 && specPorts.length > 0) continue;
    endpoints.push({ workloadUid: workloadUid(namespace, pod.metadata.name), ports: portMap });
  }
  return endpoints.sort((a, b) => (a.workloadUid! < b.workloadUid! ? -1 : a.workloadUid! > b.workloadUid! ? 1 : 0));
}

export function translateService(ctx: TranslateContext, svc: Service, warn: Warn): ServiceResource {
  const namespace = svc.metadata.namespace ?? 'default';
  const specPorts = (svc.spec?.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP');
  const ports: ServicePort[] = specPorts.map((p) => ({
    servicePort: p.port,
    targetPort: typeof p.targetPort === 'string' && !/^[0-9]+$/.test(p.targetPort) ? 0 : Number(p.targetPort ?? p.port),
    name: p.name ?? '',
    appProtocol: portProtocol(p),
  }));

  const selector = svc.spec?.selector;
  const endpoints = selector !== undefined && hasSelector(svc) ? podEndpoints(ctx, namespace, selector, specPorts) : sliceEndpoints(ctx, svc, specPorts, warn);

  // A waypoint's own Service is never bound to a waypoint.
  const ownGateway = ctx.kube.getByName('Gateway', namespace, svc.metadata.name);
  const ns = ctx.kube.getByName<Namespace>('Namespace', '', namespace);
  const waypoint = isWaypointGateway(ownGateway) ? undefined : resolveWaypoint(ctx, svc, ns, 'service', warn);
  return {
    name: svc.metadata.name,
    namespace,
    hostname: serviceHostname(ctx.mesh, svc.metadata.name, namespace),
    vips: clusterIps(svc),
    ports,
    endpoints,
    waypoint: waypoint ?? null,
    labels: svc.metadata.labels ?? {},
  };
}
