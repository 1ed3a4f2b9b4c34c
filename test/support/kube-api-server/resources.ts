/**
 * The API resources the test API server serves, as the real one registers them: group, version,
 * plural, kind, scope, and whether a status subresource splits status writes from spec writes.
 */

export interface ServedResource {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** PUT/PATCH on the object keep its status; status is written through <name>/status. */
  readonly statusSubresource: boolean;
}

const r = (group: string, version: string, plural: string, kind: string, namespaced = true, statusSubresource = false): ServedResource => ({
  group,
  version,
  plural,
  kind,
  namespaced,
  statusSubresource,
});

export const SERVED_RESOURCES: readonly ServedResource[] = [
  r('', 'v1', 'namespaces', 'Namespace', false, true),
  r('', 'v1', 'pods', 'Pod', true, true),
  r('', 'v1', 'services', 'Service', true, true),
  r('', 'v1', 'serviceaccounts', 'ServiceAccount'),
  r('', 'v1', 'secrets', 'Secret'),
  r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'),
  r('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  r('apps', 'v1', 'deployments', 'Deployment', true, true),
  r('apps', 'v1', 'daemonsets', 'DaemonSet', true, true),
  r('security.istio.io', 'v1', 'authorizationpolicies', 'AuthorizationPolicy', true, true),
  r('security.istio.io', 'v1', 'peerauthentications', 'PeerAuthentication', true, true),
  r('security.istio.io', 'v1', 'requestauthentications', 'RequestAuthentication', true, true),
  r('networking.istio.io', 'v1', 'destinationrules', 'DestinationRule', true, true),
  r('gateway.networking.k8s.io', 'v1', 'gateways', 'Gateway', true, true),
  r('gateway.networking.k8s.io', 'v1', 'httproutes', 'HTTPRoute', true, true),
  r('gateway.networking.k8s.io', 'v1', 'grpcroutes', 'GRPCRoute', true, true),
  r('ambit.dev', 'v1alpha1', 'faultinjections', 'FaultInjection'),
  r('ambit.dev', 'v1alpha1', 'localratelimits', 'LocalRateLimit'),
];

export const apiVersionOf = (res: ServedResource): string => (res.group === '' ? res.version : `${res.group}/${res.version}`);

/** "pods", "apps/deployments": how RBAC rules and the request log name a resource. */
export const resourceId = (res: Pick<ServedResource, 'group' | 'plural'>): string => (res.group === '' ? res.plural : `${res.group}/${res.plural}`);

export function findResource(group: string, version: string, plural: string): ServedResource | undefined {
  return SERVED_RESOURCES.find((res) => res.group === group && res.version === version && res.plural === plural);
}

export function resourceOfKind(kind: string, apiVersion?: string): ServedResource {
  const res = SERVED_RESOURCES.find((x) => x.kind === kind && (apiVersion === undefined || apiVersionOf(x) === apiVersion));
  if (res === undefined) throw new Error(`the test API server does not serve kind ${kind}${apiVersion ? ` (${apiVersion})` : ''}`);
  return res;
}
