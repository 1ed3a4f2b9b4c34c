/**
 * Every Kubernetes API permission the control plane uses, with why: docs/kubernetes.md lists
 * these, the chart's ClusterRole/Role should grant exactly these, and the integration tests check
 * that each request the control plane makes against the test API server is covered here.
 */

export interface RbacRule {
  readonly apiGroup: string;
  /** Plural resource names; "gateways/status" for a subresource. */
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  /** cluster: a ClusterRole; namespace: a Role in the control plane's own namespace. */
  readonly scope: 'cluster' | 'namespace';
  readonly why: string;
}

export const CONTROL_PLANE_RBAC: readonly RbacRule[] = [
  {
    apiGroup: '',
    resources: ['namespaces', 'pods', 'services', 'serviceaccounts'],
    verbs: ['list', 'watch'],
    scope: 'cluster',
    why: 'the Kubernetes source: enrollment labels, workloads, services, identities',
  },
  {
    apiGroup: 'security.istio.io',
    resources: ['authorizationpolicies', 'peerauthentications', 'requestauthentications'],
    verbs: ['list', 'watch'],
    scope: 'cluster',
    why: 'the Kubernetes source: Istio security policy',
  },
  { apiGroup: 'networking.istio.io', resources: ['destinationrules'], verbs: ['list', 'watch'], scope: 'cluster', why: 'the Kubernetes source: traffic policy' },
  {
    apiGroup: 'gateway.networking.k8s.io',
    resources: ['gateways', 'httproutes', 'grpcroutes'],
    verbs: ['list', 'watch'],
    scope: 'cluster',
    why: 'the Kubernetes source: waypoints and routes',
  },
  { apiGroup: 'ambit.dev', resources: ['faultinjections', 'localratelimits'], verbs: ['list', 'watch'], scope: 'cluster', why: 'the Kubernetes source: route filters' },
  {
    apiGroup: '',
    resources: ['services', 'serviceaccounts'],
    verbs: ['get', 'create', 'update'],
    scope: 'cluster',
    why: 'the waypoint controller (leader only): each waypoint\'s Service and ServiceAccount',
  },
  { apiGroup: 'apps', resources: ['deployments'], verbs: ['get', 'create', 'update'], scope: 'cluster', why: 'the waypoint controller (leader only): each waypoint\'s Deployment' },
  {
    apiGroup: 'gateway.networking.k8s.io',
    resources: ['gateways/status'],
    verbs: ['update'],
    scope: 'cluster',
    why: 'the waypoint controller (leader only): Accepted/Programmed conditions and the address',
  },
  { apiGroup: 'authentication.k8s.io', resources: ['tokenreviews'], verbs: ['create'], scope: 'cluster', why: 'node credentials: checking agents\' projected service-account tokens' },
  { apiGroup: 'coordination.k8s.io', resources: ['leases'], verbs: ['get', 'create', 'update'], scope: 'namespace', why: 'leader election' },
];

/** Whether `verb` on `resource` ("pods", "apps/deployments", "gateway.networking.k8s.io/gateways/status") is granted. */
export function rbacAllows(verb: string, resource: string, rules: readonly RbacRule[] = CONTROL_PLANE_RBAC): boolean {
  return rules.some((r) => r.verbs.includes(verb) && r.resources.some((res) => (r.apiGroup === '' ? res : `${r.apiGroup}/${res}`) === resource));
}
