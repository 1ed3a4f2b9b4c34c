/**
 * One Kubernetes object -> the resource it becomes (or its removal). The model decides *which*
 * objects to translate (change-impact.ts); this decides *what* each becomes.
 */
import type { Resource } from '../../common/proto/generated/ambit/v1/Resource';
import { KubeObject, ObjectKey, parseObjectKey, Pod, Service } from '../kube/objects';
import { translateAuthorization, AuthorizationPolicy } from '../translate/authorization';
import { translatePeerAuthentication, translateRequestAuthentication } from '../translate/authentication';
import { TranslateContext, Warn } from '../translate/context';
import { translateDestinationRule } from '../translate/destination-policy';
import { matchesSelector } from '../translate/labels';
import { policyScope } from '../translate/policy-scope';
import { translateRoute } from '../translate/route';
import { translateService } from '../translate/service';
import { translateWorkload, workloadUid } from '../translate/workload';
import type { ResourceWrite } from './resource-table';
import type { ResourceTypeName } from './resource-store';

/** Kinds that become a resource, with the resource type and name they get. */
const TARGETS: Record<string, { type: ResourceTypeName; name: (ns: string, name: string) => string }> = {
  Pod: { type: 'WORKLOAD', name: workloadUid },
  Service: { type: 'SERVICE', name: (ns, n) => `${ns}/${n}` },
  AuthorizationPolicy: { type: 'AUTHORIZATION', name: (ns, n) => `${ns}/${n}` },
  PeerAuthentication: { type: 'PEER_AUTHENTICATION', name: (ns, n) => `${ns}/${n}` },
  RequestAuthentication: { type: 'REQUEST_AUTHENTICATION', name: (ns, n) => `${ns}/${n}` },
  DestinationRule: { type: 'DESTINATION_POLICY', name: (ns, n) => `${ns}/${n}` },
  HTTPRoute: { type: 'ROUTE', name: (ns, n) => `HTTPRoute/${ns}/${n}` },
  GRPCRoute: { type: 'ROUTE', name: (ns, n) => `GRPCRoute/${ns}/${n}` },
};

export const TRANSLATED_KINDS: ReadonlySet<string> = new Set(Object.keys(TARGETS));

/**
 * Names ("<ns>/<name>") of the selector-scoped Authorizations whose selector matches these labels:
 * those in the pod's namespace, and those in the root namespace (Istio: a root-namespace policy with
 * a selector matches workloads in every namespace). As in Istio's workload API, namespace- and
 * mesh-wide policies without a selector are not listed on every workload (agents find them by
 * namespace): listing them would repeat the same names on thousands of workloads.
 */
export function selectedPoliciesFor(ctx: TranslateContext, namespace: string, labels: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  const namespaces = namespace === ctx.mesh.rootNamespace ? [namespace] : [namespace, ctx.mesh.rootNamespace];
  for (const ns of namespaces) {
    for (const ap of ctx.kube.list<AuthorizationPolicy>('AuthorizationPolicy', ns)) {
      if (policyScope(ctx.mesh, ns, ap.spec ?? {}) !== 'WORKLOAD_SELECTOR') continue;
      if (matchesSelector(ap.spec?.selector?.matchLabels, labels)) out.push(`${ns}/${ap.metadata.name}`);
    }
  }
  return out.sort();
}

function translateObject(ctx: TranslateContext, o: KubeObject, warn: Warn): Resource | undefined {
  switch (o.kind) {
    case 'Pod': {
      const workload = translateWorkload(ctx, o as Pod, { policiesFor: (ns, labels) => selectedPoliciesFor(ctx, ns, labels) }, warn);
      return workload === undefined ? undefined : { workload };
    }
    case 'Service':
      return { service: translateService(ctx, o as Service, warn) };
    case 'AuthorizationPolicy':
      return { authorization: translateAuthorization(ctx, o as AuthorizationPolicy, warn) };
    case 'PeerAuthentication':
      return { peerAuthentication: translatePeerAuthentication(ctx, o as never, warn) };
    case 'RequestAuthentication':
      return { requestAuthentication: translateRequestAuthentication(ctx, o as never, warn) };
    case 'DestinationRule':
      return { destinationPolicy: translateDestinationRule(ctx, o as never, warn) };
    case 'HTTPRoute':
    case 'GRPCRoute':
      return { route: translateRoute(ctx, o as never, warn) };
    default:
      return undefined;
  }
}

/**
 * The write for object `key` given its current version (undefined = deleted); undefined when the
 * kind does not become a resource. `warn` collects problems about this object.
 */
export function writeFor(ctx: TranslateContext, key: ObjectKey, current: KubeObject | undefined, warn: Warn): ResourceWrite | undefined {
  const { kind, namespace, name } = parseObjectKey(key);
  const target = TARGETS[kind];
  if (target === undefined) return undefined;
  let resource: Resource | undefined;
  if (current !== undefined) {
    try {
      resource = translateObject(ctx, current, warn);
    } catch (err) {
      // Schemas should make this impossible; if not, the object is reported, not the model broken.
      warn(`could not be translated: ${(err as Error).message}`);
      resource = undefined;
    }
  }
  return { type: target.type, name: target.name(namespace, name), resource };
}
