/**
 * Every Kubernetes API permission the control plane uses, with why: docs/kubernetes.md lists
 * these, the chart's ClusterRole/Role should grant exactly these, and the integration tests check
 * that each request the control plane makes against the test API server is covered here.
 */
import { CA_ROOT_SECRET } from '../ca/secret-root-store';

export interface RbacRule {
  readonly apiGroup: string;
  /** Plural resource names; "gateways/status" for a subresource. */
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  /**
   * Only these objects. Kubernetes cannot limit `create` (or list/watch) by name: the name is not
   * known when the request is authorized, so those verbs get a rule of their own.
   */
  readonly resourceNames?: readonly string[];
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
    apiGroup: 'discovery.k8s.io',
    resources: ['endpointslices'],
    verbs: ['list', 'watch'],
    scope: 'cluster',
    why: 'the Kubernetes source: endpoints of Services without a selector',
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
  {
    apiGroup: 'authentication.k8s.io',
    resources: ['tokenreviews'],
    verbs: ['create'],
    scope: 'cluster',
    why: 'node credentials: checking agents\' and waypoint pods\' projected service-account tokens',
  },
  { apiGroup: 'coordination.k8s.io', resources: ['leases'], verbs: ['get', 'create', 'update'], scope: 'namespace', why: 'leader election' },
  {
    apiGroup: '',
    resources: ['secrets'],
    verbs: ['get'],
    resourceNames: [CA_ROOT_SECRET],
    scope: 'namespace',
    why: 'the CA root: every replica loads the same root from this Secret',
  },
  {
    apiGroup: '',
    resources: ['secrets'],
    verbs: ['create'],
    scope: 'namespace',
    why: 'the CA root: the leader creates the Secret once when it is absent (create-only; never updated or deleted)',
  },
];

/**
 * Whether `verb` on `resource` ("pods", "apps/deployments", "gateway.networking.k8s.io/gateways/status")
 * is granted; with `name`, a rule limited to resourceNames must list it (without, such a rule is
 * taken to match: callers that do not know the object's name check verb and resource only).
 */
export function rbacAllows(verb: string, resource: string, name?: string, rules: readonly RbacRule[] = CONTROL_PLANE_RBAC): boolean {
  return rules.some(
    (r) =>
      r.verbs.includes(verb) &&
      r.resources.some((res) => (r.apiGroup === '' ? res : `${r.apiGroup}/${res}`) === resource) &&
      (r.resourceNames === undefined || name === undefined || r.resourceNames.includes(name)),
  );
}
