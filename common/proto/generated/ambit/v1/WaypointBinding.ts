// Original file: proto/ambit/v1/workload.proto


/**
 * A waypoint a workload or service is bound to (istio.io/use-waypoint).
 */
export interface WaypointBinding {
  'name'?: (string);
  'namespace'?: (string);
  /**
   * Where the waypoint listens; empty until the waypoint has an address.
   */
  'addresses'?: (string)[];
  /**
   * The waypoint Service's hostname, e.g. waypoint.ns.svc.cluster.local.
   */
  'hostname'?: (string);
  /**
   * HBONE port on the waypoint; 15008 unless configured otherwise.
   */
  'hbonePort'?: (number);
}

/**
 * A waypoint a workload or service is bound to (istio.io/use-waypoint).
 */
export interface WaypointBinding__Output {
  'name': (string);
  'namespace': (string);
  /**
   * Where the waypoint listens; empty until the waypoint has an address.
   */
  'addresses': (string)[];
  /**
   * The waypoint Service's hostname, e.g. waypoint.ns.svc.cluster.local.
   */
  'hostname': (string);
  /**
   * HBONE port on the waypoint; 15008 unless configured otherwise.
   */
  'hbonePort': (number);
}
