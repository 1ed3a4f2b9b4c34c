/**
 * Which identities a caller may have certificates for. Two kinds of caller reach the CA:
 *
 * - a **node agent** (no `workload`): any identity of a pod scheduled on its node, because the
 *   agent holds the keys of every workload it captures there (architecture: "the CA issues an
 *   identity to an agent only if a pod with that identity runs on that agent's node");
 * - a **workload** acting for itself (a waypoint pod presenting its own projected token): exactly
 *   its own service account's identity. The node-wide rule must not apply to it: a waypoint shares
 *   its node with other workloads, and their identities are not its to have (issue 7).
 */
import type { SpiffeId } from '../../common/identity/spiffe';
import type { AuthenticatedNode } from '../auth/node-authenticator';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import type { IdentityDirectory } from '../model/resource-store';

/** Throws PERMISSION_DENIED unless `caller` may have `identity`. */
export function authorizeIdentity(caller: AuthenticatedNode, identity: SpiffeId, directory: IdentityDirectory): void {
  const w = caller.workload;
  if (w !== undefined) {
    if (identity.namespace === w.namespace && identity.serviceAccount === w.serviceAccount) return;
    throw new ControlPlaneError(
      ControlPlaneErrorCodes.PERMISSION_DENIED,
      `pod ${w.namespace}/${w.pod} (${w.kind}) may only have its own identity, service account ${w.namespace}/${w.serviceAccount}, ` +
        `not ${identity.namespace}/${identity.serviceAccount}`,
    );
  }
  if (!directory.hasIdentityOnNode(caller.node, identity.namespace, identity.serviceAccount)) {
    throw new ControlPlaneError(
      ControlPlaneErrorCodes.PERMISSION_DENIED,
      `no pod with service account ${identity.namespace}/${identity.serviceAccount} is scheduled on node ${caller.node}`,
    );
  }
}
