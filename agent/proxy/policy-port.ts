/**
 * The narrow policy interface the data path needs (STYLE: hand each stage only what it needs):
 * L4 authorization of a connection to a workload, and the PeerAuthentication mode of a port.
 */
import type { Workload } from '../model/mesh-view';

export interface L4Attributes {
  /** SPIFFE URI of the source; absent for plaintext. */
  sourceIdentity?: string;
  sourceAddress: string;
  destinationAddress: string;
  destinationPort: number;
}

export interface Verdict {
  allowed: boolean;
  /** "<ns>/<name>" of the deciding policy. */
  policy?: string;
  reason: string;
}

export interface InboundPolicy {
  authorize(destination: Workload, conn: L4Attributes): Verdict;
  mtlsMode(destination: Workload, port: number): 'STRICT' | 'PERMISSIVE' | 'DISABLE';
}
