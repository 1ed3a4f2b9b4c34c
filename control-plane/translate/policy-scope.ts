// Where an Istio policy applies: mesh-wide (root namespace, no selector), a namespace, the
// workloads its selector picks, or whatever its targetRefs attach it to (a waypoint or Service).
import type { PolicyScope } from '../../common/proto/generated/ambit/v1/PolicyScope';
import type { PolicyTargetRef } from '../../common/proto/generated/ambit/v1/PolicyTargetRef';
import type { MeshConfig } from './context';

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

export function policyScope(mesh: MeshConfig, namespace: string, spec: ScopedSpec): PolicyScope {
  if (targetRefsOf(spec, namespace).length > 0) return 'TARGET_REFS';
  const selector = spec.selector?.matchLabels;
  if (selector !== undefined && Object.keys(selector).length > 0) return 'WORKLOAD_SELECTOR';
  return namespace === mesh.rootNamespace ? 'GLOBAL' : 'NAMESPACE';
}
