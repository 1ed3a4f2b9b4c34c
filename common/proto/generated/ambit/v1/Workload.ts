// Original file: proto/ambit/v1/workload.proto

import type { TunnelProtocol as _ambit_v1_TunnelProtocol, TunnelProtocol__Output as _ambit_v1_TunnelProtocol__Output } from '../../ambit/v1/TunnelProtocol';
import type { WaypointBinding as _ambit_v1_WaypointBinding, WaypointBinding__Output as _ambit_v1_WaypointBinding__Output } from '../../ambit/v1/WaypointBinding';

export interface Workload {
  /**
   * Stable id: "<cluster>/<kind>/<namespace>/<name>", for pods "Kubernetes//Pod/<namespace>/<name>"
   * (no cluster id yet). Left off the wire when it is that pod form; decoders fill it back in
   * (common/proto/wire-form.ts).
   */
  'uid'?: (string);
  'name'?: (string);
  'namespace'?: (string);
  'serviceAccount'?: (string);
  /**
   * Node (spec.nodeName) the workload runs on.
   */
  'node'?: (string);
  /**
   * Pod IPs, IPv4 and/or IPv6, in text form.
   */
  'addresses'?: (string)[];
  'labels'?: ({[key: string]: string});
  'protocol'?: (_ambit_v1_TunnelProtocol);
  /**
   * Set when traffic to this workload must go through a waypoint.
   */
  'waypoint'?: (_ambit_v1_WaypointBinding | null);
  /**
   * Ready per the pod's Ready condition; only ready workloads become service endpoints.
   */
  'ready'?: (boolean);
  /**
   * spiffe://<trust_domain>/ns/<namespace>/sa/<service_account>.
   */
  'trustDomain'?: (string);
  /**
   * Telemetry labels (Istio: canonical service and revision, owning workload).
   */
  'canonicalName'?: (string);
  'canonicalRevision'?: (string);
  'workloadName'?: (string);
  /**
   * Names ("<namespace>/<name>") of the selector-scoped Authorizations that select this workload
   * (in its namespace, or in the root namespace, which selects across namespaces), computed by the
   * control plane so agents need not evaluate selectors. Policies without a selector apply by their
   * namespace (the root namespace: mesh-wide) and are not repeated here.
   */
  'authorizationPolicies'?: (string)[];
  /**
   * Set when this workload is itself a waypoint (a pod of a Gateway of a waypoint class).
   */
  'isWaypoint'?: (boolean);
}

export interface Workload__Output {
  /**
   * Stable id: "<cluster>/<kind>/<namespace>/<name>", for pods "Kubernetes//Pod/<namespace>/<name>"
   * (no cluster id yet). Left off the wire when it is that pod form; decoders fill it back in
   * (common/proto/wire-form.ts).
   */
  'uid': (string);
  'name': (string);
  'namespace': (string);
  'serviceAccount': (string);
  /**
   * Node (spec.nodeName) the workload runs on.
   */
  'node': (string);
  /**
   * Pod IPs, IPv4 and/or IPv6, in text form.
   */
  'addresses': (string)[];
  'labels': ({[key: string]: string});
  'protocol': (_ambit_v1_TunnelProtocol__Output);
  /**
   * Set when traffic to this workload must go through a waypoint.
   */
  'waypoint': (_ambit_v1_WaypointBinding__Output | null);
  /**
   * Ready per the pod's Ready condition; only ready workloads become service endpoints.
   */
  'ready': (boolean);
  /**
   * spiffe://<trust_domain>/ns/<namespace>/sa/<service_account>.
   */
  'trustDomain': (string);
  /**
   * Telemetry labels (Istio: canonical service and revision, owning workload).
   */
  'canonicalName': (string);
  'canonicalRevision': (string);
  'workloadName': (string);
  /**
   * Names ("<namespace>/<name>") of the selector-scoped Authorizations that select this workload
   * (in its namespace, or in the root namespace, which selects across namespaces), computed by the
   * control plane so agents need not evaluate selectors. Policies without a selector apply by their
   * namespace (the root namespace: mesh-wide) and are not repeated here.
   */
  'authorizationPolicies': (string)[];
  /**
   * Set when this workload is itself a waypoint (a pod of a Gateway of a waypoint class).
   */
  'isWaypoint': (boolean);
}
