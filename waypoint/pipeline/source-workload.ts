/**
 * Who sent a request, for telemetry: the workload at the client's address when this waypoint
 * knows it, else what the source agent put in the tunnel's W3C `baggage` (ztunnel's keys:
 * k8s.namespace.name, k8s.pod.name, k8s.deployment.name, service.name, service.version,
 * k8s.cluster.name). A waypoint receives only the workloads behind its own services, so most
 * clients are known only this way. Baggage is believed only when its namespace is the namespace of
 * the identity the client proved with its certificate.
 */
import type { WorkloadLike } from '../../common/telemetry/workload-labels';
import type { DownstreamContext } from '../listener/downstream-context';
import type { WaypointView, Workload } from '../model/waypoint-view';
import { clientAddress } from './receive';

const cache = new Map<string, WorkloadLike | undefined>();

export function sourceWorkload(view: WaypointView, ctx: DownstreamContext): Workload | WorkloadLike | undefined {
  const known = view.workloadAt(clientAddress(ctx));
  if (known) return known;
  const baggage = ctx.tunnelHeaders?.baggage;
  if (!baggage || !ctx.peer.namespace) return undefined;
  const key = `${ctx.peer.namespace}|${baggage}`;
  if (cache.has(key)) return cache.get(key);
  const w = fromBaggage(baggage, ctx.peer.namespace);
  if (cache.size > 10_000) cache.clear();
  cache.set(key, w);
  return w;
}

export function fromBaggage(baggage: string, peerNamespace: string): WorkloadLike | undefined {
  const items = new Map<string, string>();
  for (const part of baggage.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).split(';')[0].trim();
    try {
      items.set(k, decodeURIComponent(raw));
    } catch {
      items.set(k, raw);
    }
  }
  const namespace = items.get('k8s.namespace.name');
  const name = items.get('k8s.pod.name') ?? items.get('k8s.deployment.name');
  if (!namespace || !name || namespace !== peerNamespace) return undefined;
  return {
    name,
    namespace,
    workloadName: items.get('k8s.deployment.name') ?? name,
    canonicalName: items.get('service.name') ?? '',
    canonicalRevision: items.get('service.version') ?? '',
    clusterId: items.get('k8s.cluster.name') ?? '',
  };
}
