// Original file: proto/ambit/v1/workload.proto


export interface Endpoint {
  'workloadUid'?: (string);
  /**
   * service port -> target port on this workload (named target ports resolved per pod).
   */
  'ports'?: ({[key: number]: number});
}

export interface Endpoint__Output {
  'workloadUid': (string);
  /**
   * service port -> target port on this workload (named target ports resolved per pod).
   */
  'ports': ({[key: number]: number});
}
