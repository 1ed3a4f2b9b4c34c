/**
 * Pod -> Workload. Every pod with an IP becomes a workload (so agents know what is behind every
 * address); only ambient pods get protocol HBONE. A pod scheduled to a node but without an IP yet
 * is a workload with no addresses: on Kubernetes the CNI ADD (which enrolls the pod with its
 * node's agent) runs before the pod has an IP published, and the agent needs to know then whether
 * the pod is ambient and which identity it runs. Such a workload is never ready, so it is nobody's
 * endpoint. Terminated pods and unscheduled pods are not workloads.
 */
import type { Workload } from '../../common/proto/generated/ambit/v1/Workload';
import { podUid } from '../../common/proto/wire-form';
import type { Namespace, Pod } from '../kube/objects';
import { TranslateContext, Warn } from './context';
import { Annotations, Labels } from './labels';
import { resolveWaypoint } from './waypoints';

/** The pod form common/proto/wire-form.ts knows, so the wire can leave it out. */
export const workloadUid = podUid;

/** Pod IPs, primary first, without duplicates. */
export function podIps(pod: Pod): string[] {
  const ips = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)].filter((ip): ip is string => ip !== undefined && ip !== '');
  return [...new Set(ips)];
}

export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** istio.io/dataplane-mode on the pod, else on its namespace; a sidecar-injected pod is never ambient. */
export function isAmbient(pod: Pod, ns: Namespace | undefined): boolean {
  if (pod.metadata.annotations?.[Annotations.SIDECAR_STATUS] !== undefined) return false;
  const own = pod.metadata.labels?.[Labels.DATAPLANE_MODE];
  if (own !== undefined) return own === 'ambient';
  return ns?.metadata.labels?.[Labels.DATAPLANE_MODE] === 'ambient';
}

export const serviceAccountOf = (pod: Pod): string => pod.spec?.serviceAccountName ?? 'default';

/** The owning controller's name (a Deployment's pods are owned by a ReplicaSet "<deploy>-<hash>"). */
function workloadName(pod: Pod): string {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller === true) ?? pod.metadata.ownerReferences?.[0];
  if (owner === undefined) return pod.metadata.name;
  return owner.kind === 'ReplicaSet' ? owner.name.replace(/-[a-z0-9]{5,10}$/, '') : owner.name;
}

export interface WorkloadInputs {
  /** Names of the selector-scoped Authorizations that select a pod with these labels in this namespace. */
  policiesFor(namespace: string, labels: Readonly<Record<string, string>>): string[];
}

export function translateWorkload(ctx: TranslateContext, pod: Pod, inputs: WorkloadInputs, warn: Warn): Workload | undefined {
  const addresses = podIps(pod);
  if (isPodTerminal(pod) || (addresses.length === 0 && !pod.spec?.nodeName)) return undefined;
  const namespace = pod.metadata.namespace ?? 'default';
  const labels = pod.metadata.labels ?? {};
  const ns = ctx.kube.getByName<Namespace>('Namespace', '', namespace);
  const ambient = isAmbient(pod, ns);
  const isWaypoint = labels[Labels.GATEWAY_NAME] !== undefined;
  const name = workloadName(pod);
  return {
    uid: workloadUid(namespace, pod.metadata.name),
    name: pod.metadata.name,
    namespace,
    serviceAccount: serviceAccountOf(pod),
    node: pod.spec?.nodeName ?? '',
    addresses,
    labels,
    protocol: ambient || isWaypoint ? 'HBONE' : 'TCP',
    waypoint: ambient && !isWaypoint ? resolveWaypoint(ctx, pod, ns, 'workload', warn) ?? null : null,
    ready: isPodReady(pod),
    trustDomain: ctx.mesh.trustDomain,
    canonicalName: labels[Labels.CANONICAL_NAME] ?? labels[Labels.APP_K8S_NAME] ?? labels[Labels.APP] ?? name,
    canonicalRevision: labels[Labels.CANONICAL_REVISION] ?? labels[Labels.APP_K8S_VERSION] ?? labels[Labels.VERSION] ?? 'latest',
    workloadName: name,
    authorizationPolicies: ambient ? inputs.policiesFor(namespace, labels) : [],
    isWaypoint,
  };
}
