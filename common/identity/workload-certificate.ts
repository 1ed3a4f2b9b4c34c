/**
 * What a workload presents in mTLS: its SPIFFE identity, private key, leaf-first chain and the
 * trust bundle it verifies peers against. The agent's certificate manager produces these; HBONE
 * (common/hbone) and the waypoint consume them. The key never leaves the process that made it.
 */
import type { SpiffeId } from './spiffe';

export interface WorkloadCertificate {
  readonly identity: SpiffeId;
  /** PKCS#8 PEM of the ECDSA P-256 key. */
  readonly keyPem: string;
  /** Leaf first, then intermediates (PEM each). */
  readonly certChainPem: readonly string[];
  /** Roots this workload trusts (PEM each). */
  readonly trustBundlePem: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}
