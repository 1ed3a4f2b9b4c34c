/**
 * istio.io/use-waypoint resolution. The label on the object (pod or service) wins over its
 * namespace's; "none" opts out. The named Gateway must be of a waypoint class and must handle the
 * traffic type (istio.io/waypoint-for: service (default), workload, all, none).
 *
 * A binding to a waypoint that does not exist (yet) is kept with no address, so the data plane
 * refuses that traffic instead of silently skipping the L7 policy the user asked for.
 */
import type { WaypointBinding } from '../../common/proto/generated/ambit/v1/WaypointBinding';
import type { KubeObject, Namespace, Service } from '../kube/objects';
import { Ports } from '../../common/ports';
import { serviceHostname, TranslateContext, Warn } from './context';
import { Labels, WAYPOINT_CLASSES } from './labels';

interface GatewaySpec {
  gatewayClassName?: string;
  listeners?: Array<{ name: string; port: number; protocol: string }>;
}
interface GatewayStatus {
  addresses?: Array<{ type?: string; value: string }>;
}
export type Gateway = KubeObject<GatewaySpec, GatewayStatus>;

export type TrafficKind = 'service' | 'workload';

export function isWaypointGateway(gw: KubeObject | undefined): gw is Gateway {
  return gw !== undefined && WAYPOINT_CLASSES.has((gw as Gateway).spec?.gatewayClassName ?? '');
}

/** What a waypoint gateway handles, from its istio.io/waypoint-for label. */
export function waypointFor(gw: Gateway): 'service' | 'workload' | 'all' | 'none' {
  const v = gw.metadata.labels?.[Labels.WAYPOINT_FOR];
  return v === 'workload' || v === 'all' || v === 'none' ? v : 'service';
}

/** The waypoint's addresses: Gateway status first, else its Service's cluster IPs. */
export function waypointAddresses(ctx: TranslateContext, gw: Gateway): string[] {
  const fromStatus = (gw.status?.addresses ?? []).filter((a) => (a.type ?? 'IPAddress') === 'IPAddress').map((a) => a.value);
  if (fromStatus.length > 0) return fromStatus;
  const svc = ctx.kube.getByName<Service>('Service', gw.metadata.namespace ?? 'default', gw.metadata.name);
  return clusterIps(svc);
}

export function clusterIps(svc: Service | undefined): string[] {
  const spec = svc?.spec;
  if (spec === undefined) return [];
  const ips = spec.clusterIPs ?? (spec.clusterIP !== undefined ? [spec.clusterIP] : []);
  return ips.filter((ip) => ip !== '' && ip !== 'None');
}

/**
 * The waypoint binding for `object` (a Pod or Service) in namespace `ns`, or undefined when its
 * traffic does not go through a waypoint.
 */
export function resolveWaypoint(
  ctx: TranslateContext,
  object: KubeObject,
  ns: Namespace | undefined,
  kind: TrafficKind,
  warn: Warn,
): WaypointBinding | undefined {
  const own = object.metadata.labels?.[Labels.USE_WAYPOINT];
  const inherited = ns?.metadata.labels?.[Labels.USE_WAYPOINT];
  const name = own ?? inherited;
  if (name === undefined || name === '' || name === 'none') return undefined;
  const fromLabels = own !== undefined ? object.metadata.labels : ns?.metadata.labels;
  const namespace = fromLabels?.[Labels.USE_WAYPOINT_NAMESPACE] ?? object.metadata.namespace ?? 'default';
  const where = own !== undefined ? `label ${Labels.USE_WAYPOINT}` : `namespace ${namespace} label ${Labels.USE_WAYPOINT}`;

  const gw = ctx.kube.getByName('Gateway', namespace, name);
  const unbound: WaypointBinding = { name, namespace, addresses: [], hostname: serviceHostname(ctx.mesh, name, namespace), hbonePort: Ports.hbone };
  if (gw === undefined) {
    warn(`${where} names waypoint ${namespace}/${name}, which does not exist; its traffic is refused until the waypoint exists`, '/metadata/labels');
    return unbound;
  }
  if (!isWaypointGateway(gw)) {
    warn(`${where} names Gateway ${namespace}/${name}, whose gatewayClassName is not a waypoint class (${[...WAYPOINT_CLASSES].join(', ')}); its traffic is refused`, '/metadata/labels');
    return unbound;
  }
  const handles = waypointFor(gw);
  if (handles === 'none' || (handles !== 'all' && handles !== kind)) return undefined;
  const listener = gw.spec?.listeners?.find((l) => l.protocol === 'HBONE');
  const addresses = waypointAddresses(ctx, gw);
  if (addresses.length === 0) {
    warn(`waypoint ${namespace}/${name} has no address yet (no Gateway status address and no Service ${name} with a cluster IP); its traffic is refused until it has one`);
  }
  return { ...unbound, addresses, hbonePort: listener?.port ?? Ports.hbone };
}
