/** Ambit's well-known ports (ARCHITECTURE.md), the same as Istio ambient's. */
export const Ports = {
  /** Outbound capture listener, 127.0.0.1 / [::1] inside each enrolled pod. */
  outbound: 15001,
  /** Inbound plaintext listener inside each enrolled pod. */
  inbound: 15006,
  /** HBONE listener inside each enrolled pod; also the waypoint listener. */
  hbone: 15008,
  /** DNS proxy inside each enrolled pod. */
  dns: 15053,
  /** Node admin (localhost). */
  admin: 15000,
  /** Node metrics. */
  metrics: 15020,
  /** Node readiness. */
  readiness: 15021,
} as const;

/** SO_MARK on every agent socket (Istio's 1337): the capture programs never touch them. */
export const AGENT_SOCKET_MARK = 0x539;
/** Source address of the agent's connections to an app in its pod: recognisable, never re-steered. */
export const AGENT_SOURCE_IPV4 = '127.0.0.6';
export const AGENT_SOURCE_IPV6 = '::1';
