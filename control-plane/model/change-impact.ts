/**
 * Which objects must be re-translated after a batch of changes. Translation is per object, but a
 * resource depends on others (a Service's endpoints on pods or on its EndpointSlices, a workload's
 * binding on its namespace and waypoint, its policy list on AuthorizationPolicies), so a change
 * fans out to dependants.
 * Rare, wide changes (a waypoint Gateway) just re-translate everything; the resource table drops
 * whatever comes out unchanged, so over-approximating costs CPU, never extra pushes.
 */
import { KubeObject, ObjectKey, objectKey, Pod, Service } from '../kube/objects';
import type { MeshConfig } from '../translate/context';
import { hasSelector } from '../translate/endpoint-slices';
import { matchesSelector } from '../translate/labels';
import { podIps } from '../translate/workload';
import { sliceServiceKey, type KubeStore } from './kube-store';

export interface ChangedObject {
  key: ObjectKey;
  previous: KubeObject | undefined;
  current: KubeObject | undefined;
}

export type Impact = { full: true } | { full: false; keys: Set<ObjectKey> };

/** Past this many changed pods in a namespace, re-check all its services instead of each pod's. */
const BULK_PODS = 32;

export function changeImpact(kube: KubeStore, mesh: MeshConfig, changes: readonly ChangedObject[]): Impact {
  const keys = new Set<ObjectKey>();
  const podNamespaces = new Set<string>();
  const serviceNamespaces = new Set<string>();
  const routeNamespaces = new Set<string>();
  const podsByNs = new Map<string, ChangedObject[]>();
  let allPods = false;

  for (const c of changes) {
    const o = c.current ?? c.previous;
    if (o === undefined) continue;
    const ns = o.metadata.namespace ?? '';
    keys.add(c.key);
    switch (o.kind) {
      case 'Gateway':
        return { full: true };
      case 'Service':
        // A waypoint's Service carries the waypoint's address: everything bound to it changes.
        if (kube.getByName('Gateway', ns, o.metadata.name) !== undefined) return { full: true };
        break;
      case 'Namespace':
        podNamespaces.add(o.metadata.name);
        serviceNamespaces.add(o.metadata.name);
        break;
      case 'Pod': {
        let list = podsByNs.get(ns);
        if (list === undefined) podsByNs.set(ns, (list = []));
        list.push(c);
        // Slice addresses that are this pod's IPs become (or stop being) its workload's endpoints.
        for (const p of [c.previous, c.current]) {
          if (p === undefined) continue;
          for (const ip of podIps(p as Pod)) for (const slice of kube.endpointSlicesAt(ip)) addSliceService(kube, keys, slice);
        }
        break;
      }
      case 'EndpointSlice':
        // Its Service, before and after (the service-name label may have changed).
        for (const slice of [c.previous, c.current]) if (slice !== undefined) addSliceService(kube, keys, slice);
        break;
      case 'AuthorizationPolicy':
        // Workloads carry the names of the policies that select them.
        if (ns === mesh.rootNamespace) allPods = true;
        else podNamespaces.add(ns);
        break;
      case 'FaultInjection':
      case 'LocalRateLimit':
        // Routes carry the resolved content of the ExtensionRef filters that name these.
        routeNamespaces.add(ns);
        break;
      default:
        break;
    }
  }

  for (const [ns, pods] of podsByNs) {
    if (serviceNamespaces.has(ns)) continue;
    if (pods.length > BULK_PODS) {
      serviceNamespaces.add(ns);
      continue;
    }
    for (const svc of kube.list<Service>('Service', ns)) {
      const sel = svc.spec?.selector;
      if (sel === undefined || Object.keys(sel).length === 0) continue;
      if (pods.some((p) => (p.previous !== undefined && matchesSelector(sel, p.previous.metadata.labels)) || (p.current !== undefined && matchesSelector(sel, p.current.metadata.labels)))) {
        keys.add(objectKey(svc));
      }
    }
  }
  const addAll = (kind: string, namespaces: Iterable<string> | undefined): void => {
    for (const ns of namespaces ?? kube.namespacesOf(kind)) for (const o of kube.list(kind, ns)) keys.add(objectKey(o));
  };
  addAll('Pod', allPods ? undefined : podNamespaces);
  addAll('Service', serviceNamespaces);
  addAll('HTTPRoute', routeNamespaces);
  addAll('GRPCRoute', routeNamespaces);
  return { full: false, keys };
}

/**
 * The Service of `slice`, unless it has a selector: those take their endpoints from pods, and
 * Kubernetes rewrites their slices on every pod change the pod itself already reported. (A
 * selector added or removed is a change of the Service, which re-translates it anyway.)
 */
function addSliceService(kube: KubeStore, keys: Set<ObjectKey>, slice: KubeObject): void {
  const svc = sliceServiceKey(slice);
  if (svc === undefined) return;
  const key = `Service/${svc}`;
  if (hasSelector(kube.get(key) as Service | undefined)) return;
  keys.add(key);
}
