// Original file: proto/ambit/v1/workload.proto

/**
 * How traffic reaches a workload.
 */
export const TunnelProtocol = {
  /**
   * Not in the mesh (or opted out): plain TCP, never captured.
   */
  TCP: 'TCP',
  /**
   * In the mesh (ambient): HBONE to <address>:15008.
   */
  HBONE: 'HBONE',
} as const;

/**
 * How traffic reaches a workload.
 */
export type TunnelProtocol =
  /**
   * Not in the mesh (or opted out): plain TCP, never captured.
   */
  | 'TCP'
  | 0
  /**
   * In the mesh (ambient): HBONE to <address>:15008.
   */
  | 'HBONE'
  | 1

/**
 * How traffic reaches a workload.
 */
export type TunnelProtocol__Output = typeof TunnelProtocol[keyof typeof TunnelProtocol]
