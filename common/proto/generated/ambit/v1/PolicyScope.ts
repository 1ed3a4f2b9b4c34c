// Original file: proto/ambit/v1/authorization.proto

export const PolicyScope = {
  /**
   * Istio's root namespace: every workload in the mesh.
   */
  GLOBAL: 'GLOBAL',
  /**
   * Every workload in the policy's namespace.
   */
  NAMESPACE: 'NAMESPACE',
  /**
   * Workloads in the namespace whose labels match `selector`.
   */
  WORKLOAD_SELECTOR: 'WORKLOAD_SELECTOR',
  /**
   * Attached with targetRefs (to a waypoint Gateway or a Service): enforced by the waypoint.
   */
  TARGET_REFS: 'TARGET_REFS',
} as const;

export type PolicyScope =
  /**
   * Istio's root namespace: every workload in the mesh.
   */
  | 'GLOBAL'
  | 0
  /**
   * Every workload in the policy's namespace.
   */
  | 'NAMESPACE'
  | 1
  /**
   * Workloads in the namespace whose labels match `selector`.
   */
  | 'WORKLOAD_SELECTOR'
  | 2
  /**
   * Attached with targetRefs (to a waypoint Gateway or a Service): enforced by the waypoint.
   */
  | 'TARGET_REFS'
  | 3

export type PolicyScope__Output = typeof PolicyScope[keyof typeof PolicyScope]
