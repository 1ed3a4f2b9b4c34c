// Original file: proto/ambit/v1/workload.proto

import type { ServicePort as _ambit_v1_ServicePort, ServicePort__Output as _ambit_v1_ServicePort__Output } from '../../ambit/v1/ServicePort';
import type { Endpoint as _ambit_v1_Endpoint, Endpoint__Output as _ambit_v1_Endpoint__Output } from '../../ambit/v1/Endpoint';
import type { WaypointBinding as _ambit_v1_WaypointBinding, WaypointBinding__Output as _ambit_v1_WaypointBinding__Output } from '../../ambit/v1/WaypointBinding';

export interface Service {
  'name'?: (string);
  'namespace'?: (string);
  /**
   * <name>.<namespace>.svc.<domain suffix>.
   */
  'hostname'?: (string);
  /**
   * Cluster IPs in text form; empty for a headless service.
   */
  'vips'?: (string)[];
  'ports'?: (_ambit_v1_ServicePort)[];
  /**
   * Ready endpoints only.
   */
  'endpoints'?: (_ambit_v1_Endpoint)[];
  'waypoint'?: (_ambit_v1_WaypointBinding | null);
  'labels'?: ({[key: string]: string});
}

export interface Service__Output {
  'name': (string);
  'namespace': (string);
  /**
   * <name>.<namespace>.svc.<domain suffix>.
   */
  'hostname': (string);
  /**
   * Cluster IPs in text form; empty for a headless service.
   */
  'vips': (string)[];
  'ports': (_ambit_v1_ServicePort__Output)[];
  /**
   * Ready endpoints only.
   */
  'endpoints': (_ambit_v1_Endpoint__Output)[];
  'waypoint': (_ambit_v1_WaypointBinding__Output | null);
  'labels': ({[key: string]: string});
}
