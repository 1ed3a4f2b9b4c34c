/**
 * What the enrollment server asks of the agent: the narrow interface between the protocol and the
 * datapath (capture programs, in-pod listeners, identities).
 */
import type { PodInfo } from '../../common/enrollment/protocol';

export interface EnrollmentHandler {
  /**
   * Puts a pod in the mesh; resolve only once capture is in place (the client is acked then, and a
   * pod is not reported started before). Called again for a uid the agent has (a client resending
   * its snapshot after an agent restart, say): refresh it, do not fail.
   *
   * fd ownership: `netnsFd` (the pod's network namespace) belongs to the server, which closes it as
   * soon as this promise settles. Use it before settling (a socket made in it, a netns attachment and
   * the netns cookie all hold their own reference), or keep your own reference by opening
   * `/proc/self/fd/${netnsFd}` (e.g. as a PodSpec netnsPath) before settling. Never close it.
   *
   * A rejection is nacked with the error's `code` (when a string) and message.
   */
  add(pod: PodInfo, netnsFd: number): Promise<void>;
  /** Takes a pod out of the mesh. A uid the agent does not have is not an error (del is idempotent). */
  del(uid: string): Promise<void>;
  /**
   * A client finished its snapshot: remove every pod whose uid is not in `keptOrAddedUids` (it was
   * neither added nor kept in that snapshot, so it is gone).
   */
  snapshotDone(keptOrAddedUids: ReadonlySet<string>): Promise<void>;
}
