/**
 * What the data path knows of a pod enrolled on this node: who it is, its addresses, and a path to
 * its network namespace that stays valid while the pod is enrolled (the agent holds the netns fd
 * it was given, so /proc/self/fd/<fd> keeps naming that namespace even after the pod's own
 * bind-mount is gone).
 */
import type { SpiffeId } from '../../common/identity/spiffe';

export interface LocalPod {
  /** The enrollment uid (the sender's; used for del/keep). */
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly ips: readonly string[];
  readonly netnsPath: string;
  readonly identity: SpiffeId;
}

export const podKey = (p: Pick<LocalPod, 'namespace' | 'name'>): string => `${p.namespace}/${p.name}`;
