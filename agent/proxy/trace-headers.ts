/**
 * The headers an HBONE CONNECT carries besides :authority (ztunnel's set):
 *   forwarded: for=<client address>    (RFC 7239; v6 quoted and bracketed)
 *   baggage:   the source workload's metadata (W3C Baggage), so the far side can label metrics
 *   traceparent: a fresh W3C trace context for the tunnel, or the caller's when given.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Workload } from '../model/mesh-view';

export function forwardedFor(address: string): string {
  return net.isIPv6(address) ? `for="[${address}]"` : `for=${address}`;
}

export function baggageOf(w: Workload | undefined, clusterName: string): string | undefined {
  if (!w) return undefined;
  const items: Array<[string, string]> = [
    ['k8s.cluster.name', clusterName],
    ['k8s.namespace.name', w.namespace],
    ['k8s.pod.name', w.name],
    ['service.name', w.canonicalName || w.name],
    ['service.version', w.canonicalRevision || 'latest'],
  ];
  if (w.workloadName) items.push(['k8s.deployment.name', w.workloadName]);
  return items.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(',');
}

export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}
