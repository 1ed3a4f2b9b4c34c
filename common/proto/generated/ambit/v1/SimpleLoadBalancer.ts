// Original file: proto/ambit/v1/destination.proto

export const SimpleLoadBalancer = {
  /**
   * ROUND_ROBIN unless configured: Istio's UNSPECIFIED is LEAST_REQUEST in Envoy; Ambit documents
   * its own default in docs/.
   */
  LB_UNSPECIFIED: 'LB_UNSPECIFIED',
  ROUND_ROBIN: 'ROUND_ROBIN',
  LEAST_REQUEST: 'LEAST_REQUEST',
  RANDOM: 'RANDOM',
  PASSTHROUGH: 'PASSTHROUGH',
} as const;

export type SimpleLoadBalancer =
  /**
   * ROUND_ROBIN unless configured: Istio's UNSPECIFIED is LEAST_REQUEST in Envoy; Ambit documents
   * its own default in docs/.
   */
  | 'LB_UNSPECIFIED'
  | 0
  | 'ROUND_ROBIN'
  | 1
  | 'LEAST_REQUEST'
  | 2
  | 'RANDOM'
  | 3
  | 'PASSTHROUGH'
  | 4

export type SimpleLoadBalancer__Output = typeof SimpleLoadBalancer[keyof typeof SimpleLoadBalancer]
