/**
 * Which targetRefs-attached policies (AuthorizationPolicy, RequestAuthentication) a waypoint
 * enforces for a request to a Service (Istio ambient: istio.io docs/ambient/usage/l7-features):
 *
 * - kind Gateway (gateway.networking.k8s.io) naming this waypoint, policy in its namespace;
 * - kind Service (core group "") naming the requested Service, policy in the Service's namespace;
 * - kind GatewayClass istio-waypoint (or ambit-waypoint), policy in the root namespace: every
 *   waypoint of the mesh.
 *
 * targetRefs are namespace-local (the translator fills `namespace` with the policy's own).
 * Results are sorted by "<namespace>/<name>" so decisions and reports are deterministic; the
 * inputs only change with config, so callers cache per (service, config version).
 */
import type { Authorization__Output } from '../../common/proto/generated/ambit/v1/Authorization';
import type { PolicyTargetRef__Output } from '../../common/proto/generated/ambit/v1/PolicyTargetRef';
import type { RequestAuthentication__Output } from '../../common/proto/generated/ambit/v1/RequestAuthentication';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';
const WAYPOINT_CLASSES = new Set(['istio-waypoint', 'ambit-waypoint']);

export interface NamedRef {
  readonly namespace: string;
  readonly name: string;
}

interface Attached {
  readonly name: string;
  readonly namespace: string;
  readonly scope: Authorization__Output['scope'];
  readonly targetRefs: readonly PolicyTargetRef__Output[];
}

function refSelects(ref: PolicyTargetRef__Output, policyNs: string, waypoint: NamedRef, service: NamedRef | undefined, root: string): boolean {
  const ns = ref.namespace === '' ? policyNs : ref.namespace;
  if (ref.kind === 'Gateway' && ref.group === GATEWAY_GROUP) return ref.name === waypoint.name && ns === waypoint.namespace;
  if (ref.kind === 'Service' && (ref.group === '' || ref.group === 'core')) {
    return service !== undefined && ref.name === service.name && ns === service.namespace;
  }
  if (ref.kind === 'GatewayClass' && (ref.group === GATEWAY_GROUP || ref.group === '')) return WAYPOINT_CLASSES.has(ref.name) && policyNs === root;
  return false;
}

const key = (p: NamedRef): string => `${p.namespace}/${p.name}`;

function attached<T extends Attached>(all: Iterable<T>, waypoint: NamedRef, service: NamedRef | undefined, root: string): T[] {
  const out: T[] = [];
  for (const p of all) {
    if (p.scope !== 'TARGET_REFS') continue;
    if (p.targetRefs.some((r) => refSelects(r, p.namespace, waypoint, service, root))) out.push(p);
  }
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The AuthorizationPolicies this waypoint enforces for a request to `service`. */
export function policiesForWaypoint(
  all: Iterable<Authorization__Output>,
  waypoint: NamedRef,
  service: NamedRef | undefined,
  rootNamespace = 'istio-system',
): Authorization__Output[] {
  return attached(all, waypoint, service, rootNamespace);
}

/** The RequestAuthentications this waypoint applies to a request to `service`. */
export function requestAuthenticationsFor(
  all: Iterable<RequestAuthentication__Output>,
  waypoint: NamedRef,
  service: NamedRef | undefined,
  rootNamespace = 'istio-system',
): RequestAuthentication__Output[] {
  return attached(all, waypoint, service, rootNamespace);
}
