/**
 * EndpointSlices -> the endpoints of a Service without a selector (issue 7): its endpoints are
 * written by hand (a database outside the cluster) or by another controller, in EndpointSlices
 * labelled `kubernetes.io/service-name: <service>`.
 *
 * A Service with a selector does not come here: Kubernetes' EndpointSlice controller would only
 * mirror its ready selected pods, and reading the pods directly keeps the pod -> workload link
 * and the pod's own readiness (control-plane/translate/service.ts).
 *
 * - Only ready endpoints are served: `conditions.ready` true, or absent (unknown = ready, as the
 *   API documents and kube-proxy does).
 * - An address that is a known pod's IP is that pod's workload endpoint (so an ambient pod is
 *   reached over HBONE with mTLS); any other address is an address endpoint outside the mesh,
 *   dialed as plain TCP by agents and waypoints.
 * - Ports: a slice port is the Service port of the same name (`""` for a single unnamed port). A
 *   Service port the slice does not list is not served by that slice's endpoints; an endpoint
 *   serving none of the Service's ports is left out (as for pods whose named target port is missing).
 * - Slices of one Service are merged: the same address in two slices (one per port set, or during
 *   a controller's rewrite) is one endpoint with the union of their ports; for a port both list,
 *   the slice first by name wins.
 * - FQDN slices are not routed to (kube-proxy ignores them too) and are reported on the Service.
 */
import net from 'node:net';
import type { Endpoint } from '../../common/proto/generated/ambit/v1/Endpoint';
import type { EndpointSlice, EndpointSliceEndpoint, Pod, Service, ServicePortSpec } from '../kube/objects';
import type { TranslateContext, Warn } from './context';
import { isPodTerminal, workloadUid } from './workload';

/** A Service with a non-empty selector takes its endpoints from pods, not from EndpointSlices. */
export const hasSelector = (svc: Service | undefined): boolean => Object.keys(svc?.spec?.selector ?? {}).length > 0;

/** The endpoint a slice's endpoint stands for: a pod's workload, or a bare address. */
function endpointIdentity(ctx: TranslateContext, address: string, e: EndpointSliceEndpoint): { workloadUid: string } | { address: string } {
  const pods = ctx.kube.podsAt(address).filter((p) => !isPodTerminal(p));
  // Two live pods on one IP only during a handover: prefer the one the slice names.
  const ref = e.targetRef?.kind === 'Pod' ? pods.find((p) => p.metadata.name === e.targetRef?.name && p.metadata.namespace === (e.targetRef?.namespace ?? p.metadata.namespace)) : undefined;
  const pod: Pod | undefined = ref ?? pods[0];
  if (pod !== undefined) return { workloadUid: workloadUid(pod.metadata.namespace ?? 'default', pod.metadata.name) };
  return { address };
}

/** service port -> port on the endpoints, for the ports of `slice` that name a TCP Service port. */
function slicePortMap(slice: EndpointSlice, specPorts: readonly ServicePortSpec[]): Record<number, number> {
  const map: Record<number, number> = {};
  for (const sp of specPorts) {
    const found = (slice.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? '') && (p.protocol ?? 'TCP') === 'TCP');
    if (found === undefined) continue;
    const numericTarget = typeof sp.targetPort === 'number' ? sp.targetPort : /^[0-9]+$/.test(sp.targetPort ?? '') ? Number(sp.targetPort) : undefined;
    map[sp.port] = found.port ?? numericTarget ?? sp.port;
  }
  return map;
}

const sortKey = (e: Endpoint): string => (e.workloadUid ? `0${e.workloadUid}` : `1${e.address ?? ''}`);

/** The ready endpoints of selector-less Service `svc`, from its EndpointSlices, sorted. */
export function sliceEndpoints(ctx: TranslateContext, svc: Service, specPorts: readonly ServicePortSpec[], warn: Warn): Endpoint[] {
  const namespace = svc.metadata.namespace ?? 'default';
  const merged = new Map<string, Endpoint & { ports: Record<number, number> }>();
  for (const slice of ctx.kube.endpointSlicesOf(namespace, svc.metadata.name)) {
    if (slice.addressType === 'FQDN') {
      warn(`EndpointSlice ${slice.metadata.name} has addressType FQDN, which is not routed to (as kube-proxy); its endpoints are left out`);
      continue;
    }
    const portMap = slicePortMap(slice, specPorts);
    if (Object.keys(portMap).length === 0 && specPorts.length > 0) continue;
    for (const e of slice.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      // Consumers use the first address (the API: "consumers must handle different types of
      // addresses in the context of their own capabilities"; kube-proxy reads addresses[0]).
      const address = e.addresses[0];
      if (address === undefined || net.isIP(address) === 0) continue;
      const identity = endpointIdentity(ctx, address, e);
      const key = 'workloadUid' in identity ? `w:${identity.workloadUid}` : `a:${identity.address}`;
      let ep = merged.get(key);
      if (ep === undefined) merged.set(key, (ep = { ...identity, ports: {} }));
      for (const [svcPort, target] of Object.entries(portMap)) ep.ports[Number(svcPort)] ??= target;
    }
  }
  return [...merged.values()].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}
