// Original file: proto/ambit/v1/workload.proto


export interface Endpoint {
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
  '_workloadName'?: "workloadName";
}

export interface Endpoint__Output {
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
  '_workloadName'?: "workloadName";
}
