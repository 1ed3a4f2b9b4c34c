// A Service's endpoints as the EndpointSlice controller computes them: the ready pods of the
// Service's namespace whose labels match its selector, each with the Service's ports mapped to
// the pod's target ports (a number, or the name of a container port; default: the Service port).
import type { Pod, Service } from '../../control-plane/kube/objects';

export interface EndpointView {
  pod: string;
  ip: string;
  ports: number[];
  ready: boolean;
}

export function selects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  // A Service without a selector has manually managed endpoints: none here.
  if (selector === undefined || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** The pod port a Service port reaches on `pod`; undefined when a named target port is missing. */
export function targetPortOn(pod: Pod, port: { port: number; targetPort?: number | string }): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of pod.spec?.containers ?? []) {
    const found = c.ports?.find((p) => p.name === target);
    if (found !== undefined) return found.containerPort;
  }
  return undefined;
}

/** Endpoints of `svc` among `pods` (objects with their current IP and readiness). */
export function endpointsOf(svc: Service, pods: ReadonlyArray<{ pod: Pod; ip: string | undefined; ready: boolean }>): EndpointView[] {
  const ns = svc.metadata.namespace ?? 'default';
  const out: EndpointView[] = [];
  for (const { pod, ip, ready } of pods) {
    if ((pod.metadata.namespace ?? 'default') !== ns || ip === undefined) continue;
    if (!selects(svc.spec?.selector, pod.metadata.labels)) continue;
    const ports = (svc.spec?.ports ?? []).map((p) => targetPortOn(pod, p)).filter((p): p is number => p !== undefined);
    out.push({ pod: pod.metadata.name, ip, ports, ready });
  }
  return out.sort((a, b) => a.pod.localeCompare(b.pod));
}
