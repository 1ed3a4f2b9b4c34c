// Where an Istio policy applies: mesh-wide (root namespace, no selector), a namespace, the
// workloads its selector picks, or whatever its targetRefs attach it to (a waypoint or Service).
import type { PolicyScope } from '../../common/proto/generated/ambit/v1/PolicyScope';
import type { PolicyTargetRef } from '../../common/proto/generated/ambit/v1/PolicyTargetRef';
import type { KubeObject } from '../kube/objects';
import type { MeshConfig, TranslateContext, Warn } from './context';
import { isWaypointGateway } from './waypoints';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface TargetRefSpec {
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ScopedSpec {
  selector?: { matchLabels?: Record<string, string> };
  targetRef?: TargetRefSpec;
  targetRefs?: TargetRefSpec[];
}

export function targetRefsOf(spec: ScopedSpec, namespace: string): PolicyTargetRef[] {
  const refs = [...(spec.targetRef !== undefined ? [spec.targetRef] : []), ...(spec.targetRefs ?? [])];
  return refs.map((r) => ({ group: r.group ?? '', kind: r.kind, name: r.name, namespace: r.namespace ?? namespace }));
}

/**
 * targetRefs as the waypoints read them. Istio lets a policy in the root namespace target a
 * GatewayClass, meaning every waypoint of that class; a waypoint does not know its class, so the
 * ref is kept as written and followed by one Gateway ref per waypoint Gateway of that class (a
 * Gateway change re-translates everything, so the list stays current).
 */
export function attachedTargetRefs(ctx: TranslateContext, spec: ScopedSpec, namespace: string, warn: Warn): PolicyTargetRef[] {
  const refs = targetRefsOf(spec, namespace);
  const out: PolicyTargetRef[] = [];
  refs.forEach((ref, i) => {
    out.push(ref);
    if (ref.kind !== 'GatewayClass' || ref.group !== GATEWAY_GROUP) return;
    if (namespace !== ctx.mesh.rootNamespace) {
      warn(`targetRef GatewayClass ${ref.name} only applies from the root namespace ${ctx.mesh.rootNamespace} (as in Istio); it attaches to nothing here`, spec.targetRef !== undefined ? '/spec/targetRef' : `/spec/targetRefs/${i}`);
      return;
    }
    // Sorted: the translated content must not depend on the order objects arrived in.
    const gateways = ctx.kube.list<KubeObject>('Gateway').sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    for (const gw of gateways) {
      if (isWaypointGateway(gw) && gw.spec?.gatewayClassName === ref.name) {
        out.push({ group: GATEWAY_GROUP, kind: 'Gateway', name: gw.metadata.name, namespace: gw.metadata.namespace ?? 'default' });
      }
    }
  });
  return out;
}

export function policyScope(mesh: MeshConfig, namespace: string, spec: ScopedSpec): PolicyScope {
  if (targetRefsOf(spec, namespace).length > 0) return 'TARGET_REFS';
  const selector = spec.selector?.matchLabels;
  if (selector !== undefined && Object.keys(selector).length > 0) return 'WORKLOAD_SELECTOR';
  return namespace === mesh.rootNamespace ? 'GLOBAL' : 'NAMESPACE';
}
