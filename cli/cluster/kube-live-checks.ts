// What "live" means on Kubernetes, as items for waitUntilLive: what the controllers report. A
// waypoint is up once the waypoint controller has programmed its Gateway (Programmed=True for the
// Gateway's current generation: its Deployment and Service exist, the Service has an address)
// and one of its pods is ready; before that, traffic sent through it is refused.
import { refText, type WaypointRef } from '../waypoint/waypoint-usage';
import type { KubeTarget } from './kube-target';
import type { WaitItem, WaitScope } from './live-wait';

export async function waypointProgrammedItems(target: KubeTarget, ref: WaypointRef): Promise<WaitItem[]> {
  const state = await target.waypointState(ref.namespace, ref.name);
  const gateway = `Gateway ${refText(ref)} Programmed`;
  if (!state.exists) return [{ id: gateway, done: false, detail: 'the Gateway is gone (deleted meanwhile?)' }];
  const p = state.programmed;
  const current = p !== undefined && (p.observedGeneration === undefined || state.generation === undefined || p.observedGeneration >= state.generation);
  const programmed: WaitItem =
    p === undefined || !current
      ? { id: gateway, done: false, detail: p === undefined ? 'no Programmed condition yet: is the Ambit control plane (its waypoint controller) running?' : 'not yet computed for its current spec' }
      : { id: gateway, done: p.status === 'True', ...(p.status !== 'True' ? { detail: [p.reason, p.message].filter(Boolean).join(': ') || `status ${p.status}` } : {}) };
  const ready = state.pods.filter((x) => x.ready).map((x) => x.name);
  const pods: WaitItem =
    ready.length > 0
      ? { id: `waypoint ${refText(ref)} pod ready`, done: true }
      : {
          id: `waypoint ${refText(ref)} pod ready`,
          done: false,
          detail: state.pods.length === 0 ? 'no pod yet' : state.pods.map((x) => `${x.name} ${x.phase}, not ready`).join(', '),
        };
  return [programmed, pods];
}

/** Waiting on Kubernetes: nothing ends it early; kubectl shows what the controllers say. */
export function kubeWaypointScope(ref: WaypointRef, labelling: boolean): WaitScope {
  const look = `\`kubectl get gateway ${ref.name} -n ${ref.namespace} -o yaml\` shows its conditions, \`kubectl get pods -n ${ref.namespace} -l gateway.networking.k8s.io/gateway-name=${ref.name}\` its pods`;
  return {
    hint: labelling
      ? `${look}; namespace ${ref.namespace} was not labelled (its traffic would be refused): label it once the waypoint is up, \`kubectl label ns ${ref.namespace} istio.io/use-waypoint=${ref.name}\``
      : look,
  };
}
