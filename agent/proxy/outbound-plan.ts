/**
 * Where a captured outbound connection goes, decided from the mesh view alone (no I/O):
 *   Service VIP  -> its waypoint (HBONE, :authority = VIP:port) when bound to one,
 *                   else its ready endpoints, in round-robin order (the rest are fail-over);
 *                   an address endpoint (no workload: an EndpointSlice address outside the
 *                   mesh) is plain TCP to it, as Istio does for non-mesh endpoints;
 *   mesh workload -> its waypoint when the pod is bound to one, else HBONE to IP:15008,
 *                   or the local inbound path when it runs on this node;
 *   anything else -> plain TCP from inside the pod (passthrough).
 * The result lists candidates in the order to try; connect failures move on to the next one.
 */
import net from 'node:net';
import { Ports } from '../../common/ports';
import type { MeshView, Service, Workload } from '../model/mesh-view';
import type { RoundRobin } from './round-robin';

export type Hop =
  /** Same node: straight to the destination pod's inbound path, no TLS on the wire. */
  | { kind: 'local'; workload: Workload; address: string; port: number }
  /** HBONE to a remote mesh workload (or a waypoint) at address:hbonePort. */
  | { kind: 'hbone'; workload: Workload; address: string; port: number; hbonePort: number; authority: string; waypoint: boolean }
  /** Plain TCP to a destination outside the mesh. */
  | { kind: 'passthrough'; address: string; port: number; workload?: Workload };

export interface OutboundPlan {
  /** Candidates in order; empty = refuse with `failure`. */
  hops: Hop[];
  service?: Service;
  /** Istio response flag and reason when nothing can be tried. */
  failure?: { flags: string; reason: string };
}

export interface PlanContext {
  view: MeshView;
  node: string;
  /** Pods enrolled on this agent (by workload uid). */
  isLocal(workload: Workload): boolean;
  balancer: RoundRobin;
}

export const hostPort = (address: string, port: number): string => (net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`);

export function planOutbound(ctx: PlanContext, source: Workload | undefined, address: string, port: number): OutboundPlan {
  const { view } = ctx;
  const service = view.serviceAt(address);
  if (service) return planService(ctx, source, service, address, port);
  const workload = view.workloadAt(address);
  if (workload && workload.protocol === 'HBONE') {
    if (workload.waypoint && !isWaypointOf(source, workload.waypoint.addresses, view)) {
      return viaWaypoint(ctx, workload.waypoint.addresses, workload.waypoint.hbonePort, address, port, `workload ${workload.namespace}/${workload.name}`);
    }
    return { hops: [workloadHop(ctx, workload, address, port)] };
  }
  return { hops: [{ kind: 'passthrough', address, port, workload }] };
}

function planService(ctx: PlanContext, source: Workload | undefined, service: Service, vip: string, port: number): OutboundPlan {
  const where = `service ${service.hostname || `${service.namespace}/${service.name}`}`;
  const svcPort = service.ports.find((p) => p.servicePort === port);
  if (!svcPort && service.ports.length > 0) {
    return { hops: [], service, failure: { flags: 'NR', reason: `${where} has no port ${port}` } };
  }
  if (service.waypoint && !isWaypointOf(source, service.waypoint.addresses, ctx.view)) {
    const plan = viaWaypoint(ctx, service.waypoint.addresses, service.waypoint.hbonePort, vip, port, where);
    return { ...plan, service };
  }
  const hops: Hop[] = [];
  for (const ep of ctx.balancer.order(`svc/${service.namespace}/${service.name}`, service.endpoints)) {
    const target = Number((ep.ports as Record<string, number>)[String(port)] ?? (svcPort?.targetPort || port));
    if (!ep.workloadUid) {
      // Only the VIP's family: a dual-stack Service has one slice per family, as kube-proxy reads them.
      if (ep.address && net.isIP(ep.address) === net.isIP(vip)) hops.push({ kind: 'passthrough', address: ep.address, port: target });
      continue;
    }
    const workload = ctx.view.workload(ep.workloadUid);
    if (!workload || !workload.ready) continue;
    const address = pickAddress(workload, vip);
    if (!address) continue;
    hops.push(workload.protocol === 'HBONE' ? workloadHop(ctx, workload, address, target) : { kind: 'passthrough', address, port: target, workload });
  }
  if (hops.length === 0) return { hops, service, failure: { flags: 'UH', reason: `${where} has no ready endpoint` } };
  return { hops, service };
}

function workloadHop(ctx: PlanContext, workload: Workload, address: string, port: number): Hop {
  if (workload.node === ctx.node && ctx.isLocal(workload)) return { kind: 'local', workload, address, port };
  return { kind: 'hbone', workload, address, port, hbonePort: Ports.hbone, authority: hostPort(address, port), waypoint: false };
}

/** HBONE to the waypoint; the authority (and the reported destination) stay what the client dialed. */
function viaWaypoint(ctx: PlanContext, addresses: readonly string[], hbonePort: number, address: string, port: number, where: string): OutboundPlan {
  const authority = hostPort(address, port);
  const waypoints = ctx.view.waypointWorkloads(addresses).filter((w) => w.ready && w.addresses.length > 0);
  if (waypoints.length === 0) {
    return { hops: [], failure: { flags: 'UH', reason: `${where} must go through its waypoint, which has no ready instance` } };
  }
  const ordered = ctx.balancer.order(`wp/${addresses.join(',')}`, waypoints);
  return {
    hops: ordered.map((w) => ({ kind: 'hbone', workload: w, address: w.addresses[0], port, hbonePort: hbonePort || Ports.hbone, authority, waypoint: true })),
  };
}

/** The waypoint itself sends traffic on to the real destination; it must not loop back to itself. */
function isWaypointOf(source: Workload | undefined, addresses: readonly string[], view: MeshView): boolean {
  if (!source?.isWaypoint) return false;
  return view.waypointWorkloads(addresses).some((w) => w.uid === source.uid);
}

/** The endpoint's address in the VIP's family when it has one. */
function pickAddress(workload: Workload, vip: string): string | undefined {
  const family = net.isIP(vip);
  return workload.addresses.find((a) => net.isIP(a) === family) ?? workload.addresses[0];
}
