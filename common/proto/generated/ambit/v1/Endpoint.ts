// Original file: proto/ambit/v1/workload.proto


export interface Endpoint {
  /**
   * The workload behind this endpoint; empty for an address endpoint (see `address`).
   */
  'workloadUid'?: (string);
  /**
   * service port -> target port on this workload (named target ports resolved per pod).
   */
  'ports'?: ({[key: number]: number});
  /**
   * On the wire, instead of workload_uid, for a pod in the service's namespace: its name (the uid
   * is then "Kubernetes//Pod/<service namespace>/<name>"). Decoders fill workload_uid back in.
   */
  'workloadName'?: (string);
  /**
   * An endpoint that is no known workload (an EndpointSlice address of a Service without a
   * selector: a database outside the cluster, endpoints another controller manages): its IP, set
   * only when workload_uid is empty. It is outside the mesh: agents and waypoints dial it as plain
   * TCP (passthrough), as Istio does for non-mesh endpoints.
   */
  'address'?: (string);
  '_workloadName'?: "workloadName";
}

export interface Endpoint__Output {
  /**
   * The workload behind this endpoint; empty for an address endpoint (see `address`).
   */
  'workloadUid': (string);
  /**
   * service port -> target port on this workload (named target ports resolved per pod).
   */
  'ports': ({[key: number]: number});
  /**
   * On the wire, instead of workload_uid, for a pod in the service's namespace: its name (the uid
   * is then "Kubernetes//Pod/<service namespace>/<name>"). Decoders fill workload_uid back in.
   */
  'workloadName'?: (string);
  /**
   * An endpoint that is no known workload (an EndpointSlice address of a Service without a
   * selector: a database outside the cluster, endpoints another controller manages): its IP, set
   * only when workload_uid is empty. It is outside the mesh: agents and waypoints dial it as plain
   * TCP (passthrough), as Istio does for non-mesh endpoints.
   */
  'address': (string);
  '_workloadName'?: "workloadName";
}
