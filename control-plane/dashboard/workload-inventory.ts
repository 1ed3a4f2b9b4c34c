/**
 * What the dashboard shows of each workload and service, read from the control plane's served
 * resources: a workload (pods grouped by owner, as Istio's `*_workload` metric label groups them)
 * with its SPIFFE identity, pods and the policies that apply to it; a service with its address and
 * waypoint.
 *
 * Which policies apply is decided by the same code the data plane enforces with, so the dashboard
 * cannot disagree with it: the agent's policiesFor (mesh-wide, namespace, and the selector
 * policies the model resolved into Workload.authorization_policies) and peerAuthenticationLevels
 * (Istio's mesh -> namespace -> workload precedence). Policies with targetRefs are listed for the
 * workloads behind the Service or waypoint they target: the waypoint enforces them on that traffic.
 */
import { workloadIdentity } from '../../common/identity/workload-identity';
import type { Authorization__Output } from '../../common/proto/generated/ambit/v1/Authorization';
import type { PeerAuthentication__Output } from '../../common/proto/generated/ambit/v1/PeerAuthentication';
import type { Service } from '../../common/proto/generated/ambit/v1/Service';
import type { Workload__Output } from '../../common/proto/generated/ambit/v1/Workload';
import { policiesFor } from '../../agent/policy/authorization';
import { peerAuthenticationLevels } from '../../agent/policy/peer-authentication';
import type { ResourceStore, ResourceTypeName, StoredResource } from '../model/resource-store';
import { isTargetRefsScope } from '../push/waypoint-scope';
import { serviceNodeId, workloadNodeId } from './traffic-edges';

export interface PolicyView {
  readonly kind: 'AuthorizationPolicy' | 'PeerAuthentication';
  /** "<namespace>/<name>" */
  readonly name: string;
  /** e.g. "ALLOW, enforced by the node agent", "STRICT (namespace-wide)". */
  readonly effect: string;
}

export interface PodView {
  readonly name: string;
  readonly node: string;
  readonly addresses: readonly string[];
  readonly ready: boolean;
}

export interface WorkloadView {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly identities: readonly string[];
  readonly ambient: boolean;
  /** "<ns>/<name>" of the waypoint its own traffic is bound to, if any. */
  readonly waypoint?: string;
  readonly pods: readonly PodView[];
  readonly policies: readonly PolicyView[];
}

export interface ServiceView {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly hostname: string;
  readonly addresses: readonly string[];
  readonly ports: readonly number[];
  readonly endpoints: number;
  readonly waypoint?: string;
}

export interface Inventory {
  readonly workloads: readonly WorkloadView[];
  readonly services: readonly ServiceView[];
  /** Nodes that run at least one pod. */
  readonly nodes: readonly string[];
  /** Whether <ns>/<workload> is a waypoint's pods. */
  isWaypoint(namespace: string, workload: string): boolean;
}

const ref = (ns: string | undefined, name: string | undefined): string => `${ns ?? ''}/${name ?? ''}`;
const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);

function targetRefPolicies(svcs: readonly Service[], waypoint: string | undefined, authorizations: readonly Authorization__Output[]): PolicyView[] {
  const targets = new Set<string>();
  for (const s of svcs) {
    targets.add(`Service:${ref(s.namespace, s.name)}`);
    if (s.waypoint?.name) targets.add(`Gateway:${ref(s.waypoint.namespace || s.namespace, s.waypoint.name)}`);
  }
  if (waypoint !== undefined) targets.add(`Gateway:${waypoint}`);
  return authorizations
    .filter((p) => isTargetRefsScope(p.scope) && (p.targetRefs ?? []).some((r) => targets.has(`${r.kind}:${ref(r.namespace || p.namespace, r.name)}`)))
    .map((p) => ({ kind: 'AuthorizationPolicy' as const, name: ref(p.namespace, p.name), effect: `${p.action}${p.dryRun ? ' (dry run)' : ''}, enforced by the waypoint` }));
}

function peerAuthenticationPolicies(w: Workload__Output, all: readonly PeerAuthentication__Output[], rootNamespace: string): PolicyView[] {
  const levels = peerAuthenticationLevels({ namespace: w.namespace, labels: w.labels ?? {} }, all, { rootNamespace });
  const out: PolicyView[] = [];
  for (const [level, p] of [['mesh-wide', levels.mesh], ['namespace-wide', levels.namespace], ['workload', levels.workload]] as const) {
    if (p === undefined) continue;
    const ports = Object.entries(p.portLevelMtls ?? {}).map(([port, mode]) => `${port}: ${mode}`);
    out.push({ kind: 'PeerAuthentication', name: ref(p.namespace, p.name), effect: `${p.mode} (${level})${ports.length > 0 ? `, ports ${ports.join(', ')}` : ''}` });
  }
  return out;
}

export function buildInventory(store: ResourceStore, rootNamespace: string): Inventory {
  const of = <T>(type: ResourceTypeName, pick: (r: StoredResource) => T | null | undefined): T[] =>
    [...store.ofType(type)].map(pick).filter((x): x is T => x !== undefined && x !== null);
  // Served resources are complete (translation fills every field), i.e. the decoded form.
  const workloads = of('WORKLOAD', (r) => r.resource.workload as Workload__Output | undefined);
  const services = of('SERVICE', (r) => r.resource.service);
  const authorizations = of('AUTHORIZATION', (r) => r.resource.authorization as Authorization__Output | undefined);
  const peerAuths = of('PEER_AUTHENTICATION', (r) => r.resource.peerAuthentication as PeerAuthentication__Output | undefined);

  const waypointUids = new Set(workloads.filter((w) => w.isWaypoint).map((w) => w.uid));
  const waypointWorkloads = new Set(workloads.filter((w) => w.isWaypoint).map((w) => ref(w.namespace, w.workloadName || w.name)));
  const servicesOf = new Map<string, Service[]>();
  for (const s of services) for (const e of s.endpoints ?? []) if (e.workloadUid) servicesOf.set(e.workloadUid, [...(servicesOf.get(e.workloadUid) ?? []), s]);

  const groups = new Map<string, Workload__Output[]>();
  for (const w of workloads) {
    if (w.isWaypoint) continue;
    const id = workloadNodeId(w.namespace, w.workloadName || w.name);
    groups.set(id, [...(groups.get(id) ?? []), w]);
  }
  const views: WorkloadView[] = [...groups.entries()].map(([id, pods]) => {
    const first = pods[0];
    const waypoint = first.waypoint?.name ? ref(first.waypoint.namespace || first.namespace, first.waypoint.name) : undefined;
    const policies = new Map<string, PolicyView>();
    for (const w of pods) {
      const ambient = w.protocol === 'HBONE';
      const found = [
        ...(ambient ? policiesFor(w, authorizations).map((p): PolicyView => ({ kind: 'AuthorizationPolicy', name: ref(p.namespace, p.name), effect: `${p.action}${p.dryRun ? ' (dry run)' : ''}, enforced by the node agent` })) : []),
        ...targetRefPolicies(servicesOf.get(w.uid) ?? [], waypoint, authorizations),
        ...(ambient ? peerAuthenticationPolicies(w, peerAuths, rootNamespace) : []),
      ];
      for (const p of found) policies.set(`${p.kind}|${p.name}`, p);
    }
    return {
      id,
      namespace: first.namespace,
      name: first.workloadName || first.name,
      identities: [...new Set(pods.map((w) => workloadIdentity(w)))].sort(),
      ambient: pods.some((w) => w.protocol === 'HBONE'),
      ...(waypoint !== undefined ? { waypoint } : {}),
      pods: pods.map((w) => ({ name: w.name, node: w.node, addresses: [...w.addresses], ready: w.ready })).sort(byName),
      policies: [...policies.values()].sort((a, b) => `${a.kind}${a.name}`.localeCompare(`${b.kind}${b.name}`)),
    };
  });

  const serviceViews: ServiceView[] = services
    // A waypoint's own Service is how agents reach the waypoint, not a destination of its own.
    .filter((s) => !((s.endpoints ?? []).length > 0 && (s.endpoints ?? []).every((e) => waypointUids.has(e.workloadUid ?? ''))))
    .map((s) => ({
      id: serviceNodeId(s.namespace ?? '', s.name ?? ''),
      namespace: s.namespace ?? '',
      name: s.name ?? '',
      hostname: s.hostname ?? '',
      addresses: [...(s.vips ?? [])],
      ports: (s.ports ?? []).map((p) => Number(p.servicePort)),
      endpoints: (s.endpoints ?? []).length,
      ...(s.waypoint?.name ? { waypoint: ref(s.waypoint.namespace || s.namespace, s.waypoint.name) } : {}),
    }));

  return {
    workloads: views.sort((a, b) => a.id.localeCompare(b.id)),
    services: serviceViews.sort((a, b) => a.id.localeCompare(b.id)),
    nodes: [...new Set(workloads.map((w) => w.node).filter((n) => n !== ''))].sort(),
    isWaypoint: (namespace, workload) => waypointWorkloads.has(ref(namespace, workload)),
  };
}
