/**
 * The enrollment handler: the pods enrolled on this node, each a PodRuntime. add() resolves only
 * once capture is in place (the enrollment ack), a second add of a known uid refreshes nothing
 * and succeeds, del() drains that pod's connections before removing its capture, and a finished
 * snapshot removes pods the sender no longer has.
 */
import type { PodInfo } from '../../common/enrollment/protocol';
import { spiffeId } from '../../common/identity/spiffe';
import type { Logger } from '../../common/log';
import type { EnrollmentHandler } from '../enrollment/enrollment-handler';
import type { PodEnrollments } from '../capture/pod-enrollment';
import type { ConnectionTable } from '../proxy/connection-table';
import type { LocalPod } from '../proxy/local-pod';
import { PodRuntime, type PodServing } from './pod-runtime';
import { AgentError, AgentErrorCodes } from '../errors';
import { AmbitError, ErrorCodes } from '../../common/errors';

export interface PodRegistryOptions {
  enrollments: PodEnrollments;
  serving: PodServing;
  table: ConnectionTable;
  trustDomain: string;
  /** How long a deleted pod's connections may take to finish. */
  podDrainMs: number;
  logger: Logger;
  onChange?: () => void;
  /** Called after a pod stopped (release its certificate, DNS...). */
  onRemoved?: (pod: LocalPod) => void;
}

export class PodRegistry implements EnrollmentHandler {
  private readonly pods = new Map<string, PodRuntime>();
  /** Per uid, the add/del in flight: operations on one pod run in order. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private snapshotSeen = false;

  constructor(private readonly opts: PodRegistryOptions) {}

  list(): PodRuntime[] {
    return [...this.pods.values()];
  }

  byWorkload(namespace: string, name: string): LocalPod | undefined {
    for (const rt of this.pods.values()) if (rt.pod.namespace === namespace && rt.pod.name === name) return rt.pod;
    return undefined;
  }

  add(info: PodInfo, netnsFd: number): Promise<void> {
    return this.serialize(info.uid, async () => {
      if (this.pods.has(info.uid)) return;
      for (const rt of this.pods.values()) {
        if (rt.pod.namespace === info.namespace && rt.pod.name === info.name) {
          throw new AmbitError(ErrorCodes.ENROLL, `pod ${info.namespace}/${info.name} is already enrolled with uid ${rt.pod.uid}; delete it first`);
        }
      }
      const identity = spiffeId(this.opts.trustDomain, info.namespace, info.serviceAccount);
      let rt: PodRuntime;
      try {
        rt = await PodRuntime.start(info, netnsFd, {
          enrollments: this.opts.enrollments,
          serving: this.opts.serving,
          identity,
          logger: this.opts.logger,
        });
      } catch (e) {
        // Whatever the start acquired for the pod (its certificate) is released with it.
        this.opts.onRemoved?.({ uid: info.uid, name: info.name, namespace: info.namespace, serviceAccount: info.serviceAccount, ips: info.ips, netnsPath: '', identity });
        throw e;
      }
      this.pods.set(info.uid, rt);
      this.opts.logger.info({ pod: rt.key, uid: info.uid, ips: info.ips, identity: identity.uri }, 'pod enrolled');
      this.opts.onChange?.();
    });
  }

  del(uid: string): Promise<void> {
    return this.serialize(uid, () => this.remove(uid, this.opts.podDrainMs));
  }

  /** Whether some enrollment client finished a snapshot since the agent started. */
  get synced(): boolean {
    return this.snapshotSeen;
  }

  async snapshotDone(kept: ReadonlySet<string>): Promise<void> {
    this.snapshotSeen = true;
    const gone = [...this.pods.keys()].filter((uid) => !kept.has(uid));
    await Promise.all(gone.map((uid) => this.del(uid)));
    // The snapshot names every pod of the node: capture a previous agent left for any other pod
    // (deleted or taken out of the mesh while no agent ran) goes now.
    const swept = this.opts.enrollments.reconcile();
    if (swept.pods > 0 || swept.links > 0) {
      this.opts.logger.info({ leftoverPods: swept.pods, leftoverNetnsLinks: swept.links }, 'removed capture a previous agent left for pods no longer enrolled');
    }
  }

  /**
   * Removes every pod (agent shutdown), giving connections `drainMs`. keepCapture: close their
   * listeners and connections but leave their capture in place for the next agent (pinned).
   */
  async removeAll(drainMs: number, opts: { keepCapture?: boolean } = {}): Promise<void> {
    await Promise.all([...this.pods.keys()].map((uid) => this.serialize(uid, () => this.remove(uid, drainMs, opts.keepCapture))));
  }

  private async remove(uid: string, drainMs: number, keepCapture = false): Promise<void> {
    const rt = this.pods.get(uid);
    if (!rt) return;
    this.pods.delete(uid);
    const closeAll = () => {
      for (const e of this.opts.table.forPod(uid)) e.close(new AgentError(AgentErrorCodes.DRAINING, `pod ${rt.key} left the mesh`));
    };
    await rt.stop(this.opts.enrollments, drainMs, closeAll, this.opts.table, keepCapture);
    this.opts.onRemoved?.(rt.pod);
    if (keepCapture) this.opts.logger.info({ pod: rt.key, uid }, 'pod released; its capture stays in place (fails closed) for the next agent');
    else this.opts.logger.info({ pod: rt.key, uid }, 'pod removed');
    this.opts.onChange?.();
  }

  private serialize<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(uid) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(uid, settled);
    void settled.then(() => {
      if (this.queues.get(uid) === settled) this.queues.delete(uid);
    });
    return next;
  }
}
