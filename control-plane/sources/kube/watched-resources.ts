/**
 * What the Kubernetes source lists and watches: every kind the model reads (the same kinds as
 * the YAML source, at the API versions Ambit speaks), with the typed client call that lists one
 * page of it. Istio and Gateway API kinds are CRDs and may not be installed: a 404 for them means
 * "none of these", not a broken source. EndpointSlices (discovery.k8s.io/v1) are Kubernetes' own
 * and always served; they give Services without a selector their endpoints (issue 7).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient } from './kube-client';

/** A list page as the informer's cache keeps it: plain JSON objects, like watch events carry. */
export interface RawList {
  metadata: { resourceVersion?: string; continue?: string };
  items: KubernetesObject[];
}

export interface ListPage {
  limit: number;
  continueToken?: string;
}

export interface WatchedResource {
  readonly kind: string;
  readonly apiVersion: string;
  /** '' for the core group. */
  readonly group: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** A CRD that may be absent: a 404 makes it empty, checked again later. */
  readonly optional: boolean;
  /**
   * Kubernetes' own API (core, discovery.k8s.io): the API server validated it, so a field Ambit's
   * schema does not know is a newer Kubernetes field, dropped rather than refused (object-conversion.ts).
   */
  readonly builtin: boolean;
  /** The collection path every namespace's objects are watched at. */
  readonly path: string;
  list(client: KubeClient, page: ListPage): Promise<RawList>;
}

/**
 * Typed list results hold Dates and class instances; the JSON form is what watch events carry,
 * so both reach the cache alike (the client's models name fields as the API does).
 */
const plain = (o: unknown): KubernetesObject => JSON.parse(JSON.stringify(o)) as KubernetesObject;
const toRaw = (list: { metadata?: { resourceVersion?: string; _continue?: string }; items: unknown[] }): RawList => ({
  metadata: { resourceVersion: list.metadata?.resourceVersion, continue: list.metadata?._continue },
  items: list.items.map(plain),
});

function core(kind: string, plural: string, namespaced: boolean, list: WatchedResource['list']): WatchedResource {
  return { kind, apiVersion: 'v1', group: '', plural, namespaced, optional: false, builtin: true, path: `/api/v1/${plural}`, list };
}

/**
 * A namespaced resource of a named API group, listed through the generic (custom objects) client,
 * which serves any `/apis/<group>/<version>/<plural>` and hands back plain JSON. CRDs are optional;
 * a built-in group (discovery.k8s.io) is not.
 */
function custom(kind: string, group: string, version: string, plural: string, builtin = false): WatchedResource {
  return {
    kind,
    apiVersion: `${group}/${version}`,
    group,
    plural,
    namespaced: true,
    optional: !builtin,
    builtin,
    path: `/apis/${group}/${version}/${plural}`,
    list: async (c, p) => {
      const list = (await c.custom.listClusterCustomObject({ group, version, plural, limit: p.limit, _continue: p.continueToken })) as {
        metadata?: { resourceVersion?: string; continue?: string };
        items?: KubernetesObject[];
      };
      return { metadata: { resourceVersion: list.metadata?.resourceVersion, continue: list.metadata?.continue }, items: list.items ?? [] };
    },
  };
}

export const SOURCE_RESOURCES: readonly WatchedResource[] = [
  core('Namespace', 'namespaces', false, async (c, p) => toRaw(await c.core.listNamespace({ limit: p.limit, _continue: p.continueToken }))),
  core('Pod', 'pods', true, async (c, p) => toRaw(await c.core.listPodForAllNamespaces({ limit: p.limit, _continue: p.continueToken }))),
  core('Service', 'services', true, async (c, p) => toRaw(await c.core.listServiceForAllNamespaces({ limit: p.limit, _continue: p.continueToken }))),
  core('ServiceAccount', 'serviceaccounts', true, async (c, p) =>
    toRaw(await c.core.listServiceAccountForAllNamespaces({ limit: p.limit, _continue: p.continueToken })),
  ),
  custom('EndpointSlice', 'discovery.k8s.io', 'v1', 'endpointslices', true),
  custom('AuthorizationPolicy', 'security.istio.io', 'v1', 'authorizationpolicies'),
  custom('PeerAuthentication', 'security.istio.io', 'v1', 'peerauthentications'),
  custom('RequestAuthentication', 'security.istio.io', 'v1', 'requestauthentications'),
  custom('DestinationRule', 'networking.istio.io', 'v1', 'destinationrules'),
  custom('Gateway', 'gateway.networking.k8s.io', 'v1', 'gateways'),
  custom('HTTPRoute', 'gateway.networking.k8s.io', 'v1', 'httproutes'),
  custom('GRPCRoute', 'gateway.networking.k8s.io', 'v1', 'grpcroutes'),
  custom('FaultInjection', 'ambit.dev', 'v1alpha1', 'faultinjections'),
  custom('LocalRateLimit', 'ambit.dev', 'v1alpha1', 'localratelimits'),
];

export function resourceOfKind(kind: string): WatchedResource {
  const r = SOURCE_RESOURCES.find((x) => x.kind === kind);
  if (r === undefined) throw new Error(`the Kubernetes source does not watch kind ${kind}`);
  return r;
}
