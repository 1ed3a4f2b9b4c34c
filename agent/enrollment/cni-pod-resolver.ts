/**
 * What the agent decides for a pod the CNI plugin announces (cni_add): the plugin knows the pod's
 * name, uid, cgroup and IPs, but not its identity nor whether it is ambient, and it has no API
 * server to ask. The agent's mesh config does: the pod's workload carries its service account and
 * its protocol (HBONE = ambient, by `istio.io/dataplane-mode` on the pod or its namespace, as the
 * control plane computed it). A pod the config does not list on this node yet is waited for a
 * short while (a new config version may be on its way), then refused: without an identity the
 * agent cannot serve it, and letting it start uncaptured could let an ambient pod's bytes escape.
 */
import { EnrollmentError, EnrollmentErrorCodes } from '../../common/enrollment/errors';
import type { CniPodInfo } from '../../common/enrollment/protocol';

/** The part of a config's workload the decision needs. */
export interface PodWorkload {
  serviceAccount: string;
  /** Spec.nodeName: a workload on another node is another pod of that name (rescheduled). */
  node: string;
  protocol: string;
  isWaypoint: boolean;
}

/** The agent's current mesh config, narrowed to what cni_add needs. */
export interface WorkloadSource {
  /** This node's name. */
  readonly node: string;
  /** The config version now applied (for messages). */
  version(): string;
  podWorkload(namespace: string, name: string): PodWorkload | undefined;
  /** Calls `listener` after every config version applied; returns the unsubscribe. */
  onConfig(listener: () => void): () => void;
}

export type CniDecision = { ambient: true; serviceAccount: string } | { ambient: false; reason: string };

/**
 * How long a cni_add waits for the config to list its pod. Short: the CNI plugin (and the kubelet
 * behind it) waits on this; a refusal is retried by the kubelet anyway.
 */
export const CNI_WORKLOAD_WAIT_MS = 5_000;

export class CniPodResolver {
  constructor(
    private readonly source: WorkloadSource,
    private readonly waitMs = CNI_WORKLOAD_WAIT_MS,
  ) {}

  /** Resolves with the decision; rejects with UNKNOWN_WORKLOAD when the config never lists the pod. */
  async resolve(pod: CniPodInfo): Promise<CniDecision> {
    const now = this.decide(pod);
    if (now) return now;
    const later = await new Promise<CniDecision | undefined>((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(undefined);
      }, this.waitMs);
      const off = this.source.onConfig(() => {
        const d = this.decide(pod);
        if (!d) return;
        clearTimeout(timer);
        off();
        resolve(d);
      });
    });
    if (later) return later;
    throw new EnrollmentError(
      EnrollmentErrorCodes.UNKNOWN_WORKLOAD,
      `the mesh config (version ${this.source.version() || 'none'}) has no pod ${pod.namespace}/${pod.name} on node ` +
        `${this.source.node} after ${this.waitMs} ms, so its identity and dataplane mode are unknown; ` +
        'is the control plane reachable from this agent, and does it list the pod?',
    );
  }

  private decide(pod: CniPodInfo): CniDecision | undefined {
    const w = this.source.podWorkload(pod.namespace, pod.name);
    if (w === undefined || w.node !== this.source.node) return undefined;
    if (w.isWaypoint) return { ambient: false, reason: `pod ${pod.namespace}/${pod.name} is a waypoint; waypoints are never captured` };
    if (w.protocol !== 'HBONE') {
      return { ambient: false, reason: `pod ${pod.namespace}/${pod.name} is not ambient (istio.io/dataplane-mode on the pod or its namespace)` };
    }
    return { ambient: true, serviceAccount: w.serviceAccount };
  }
}
