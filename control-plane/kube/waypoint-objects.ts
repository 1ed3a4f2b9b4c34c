/**
 * The objects a Gateway of class ambit-waypoint gets on Kubernetes: a ServiceAccount (its
 * identity), a Service (the stable address agents send bound traffic to) and a Deployment whose
 * pods run `ambit waypoint`. Built from the same manifests `ambit local` uses for a waypoint
 * (cli/waypoint/waypoint-manifests.ts), with the pod wrapped in a Deployment template, the image
 * and command from the control plane's settings, and each object owned by the Gateway (deleting
 * the Gateway lets Kubernetes' garbage collector delete them).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { GATEWAY_NAME_LABEL, waypointManifests } from '../../cli/waypoint/waypoint-manifests';
import { Ports } from '../../common/ports';

export const AMBIT_WAYPOINT_CLASS = 'ambit-waypoint';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'ambit-control-plane';
/** Where the pod's projected service-account token is mounted: its credential for the CA. */
const TOKEN_DIR = '/var/run/secrets/ambit';
export const TOKEN_FILE = `${TOKEN_DIR}/token`;
/** The default audience; the control plane passes its --token-audience (kube-cluster.ts). */
export const TOKEN_AUDIENCE = 'ambit';

export interface WaypointDeploymentSettings {
  readonly image: string;
  /** The container command; `ambit waypoint` unless the image puts ambit elsewhere. */
  readonly command: readonly string[];
  /** AMBIT_CONTROL_PLANE for the waypoint pods: how they reach the control plane's gRPC port. */
  readonly controlPlaneAddress: string;
  readonly trustDomain: string;
  readonly rootNamespace: string;
  /** Audience of the pods' projected token: the one the CA's TokenReview asks for (default "ambit"). */
  readonly tokenAudience?: string;
}

export interface GatewayObject extends KubernetesObject {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; generation?: number; resourceVersion?: string };
  spec?: { gatewayClassName?: string; listeners?: Array<{ name: string; port: number; protocol: string }> };
  status?: Record<string, unknown>;
}

export interface WaypointObjects {
  readonly serviceAccount: KubernetesObject & Record<string, unknown>;
  readonly service: KubernetesObject & { spec: Record<string, unknown> };
  readonly deployment: KubernetesObject & { spec: Record<string, any> };
}

export function ownerReference(gw: GatewayObject): { apiVersion: string; kind: string; name: string; uid: string; controller: true } {
  // controller: true marks the Gateway as the managing owner. blockOwnerDeletion is left unset:
  // it would need update on gateways/finalizers, a permission nothing else here requires.
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: gw.metadata.name, uid: gw.metadata.uid, controller: true };
}

export function waypointObjects(gw: GatewayObject, s: WaypointDeploymentSettings): WaypointObjects {
  const { name, namespace } = gw.metadata;
  const manifests = waypointManifests({
    name,
    namespace,
    env: {
      AMBIT_WAYPOINT_NAME: `${namespace}/${name}`,
      AMBIT_CONTROL_PLANE: s.controlPlaneAddress,
      AMBIT_TRUST_DOMAIN: s.trustDomain,
      AMBIT_ROOT_NAMESPACE: s.rootNamespace,
      // The setting the waypoint reads its CA credential from (common/settings/data-plane-settings.ts).
      AMBIT_NODE_TOKEN_FILE: TOKEN_FILE,
    },
  });
  const of = (kind: string): Record<string, any> => {
    const m = manifests.find((x) => x.kind === kind);
    if (m === undefined) throw new Error(`waypointManifests() produced no ${kind}`);
    return m as Record<string, any>;
  };
  const svc = of('Service');
  const pod = of('Pod');
  const meta = (labels: Record<string, string> = {}): Record<string, unknown> => ({
    name,
    namespace,
    labels: { ...labels, [MANAGED_BY_LABEL]: MANAGED_BY },
    ownerReferences: [ownerReference(gw)],
  });
  const [container] = pod.spec.containers as Array<Record<string, unknown>>;
  return {
    serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta({ [GATEWAY_NAME_LABEL]: name }) },
    service: { apiVersion: 'v1', kind: 'Service', metadata: meta(svc.metadata.labels), spec: svc.spec },
    deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta({ [GATEWAY_NAME_LABEL]: name }),
      spec: {
        replicas: 1,
        selector: { matchLabels: { [GATEWAY_NAME_LABEL]: name } },
        template: {
          metadata: { labels: pod.metadata.labels },
          spec: {
            serviceAccountName: pod.spec.serviceAccountName,
            terminationGracePeriodSeconds: pod.spec.terminationGracePeriodSeconds,
            containers: [
              {
                ...container,
                image: s.image,
                command: [...s.command],
                ports: [
                  { name: 'mesh', containerPort: Ports.hbone, protocol: 'TCP' },
                  { name: 'metrics', containerPort: Ports.metrics, protocol: 'TCP' },
                  { name: 'readiness', containerPort: Ports.readiness, protocol: 'TCP' },
                ],
                volumeMounts: [{ name: 'ambit-token', mountPath: TOKEN_DIR, readOnly: true }],
              },
            ],
            // The waypoint's credential for the CA: a short-lived token bound to the pod, for the
            // control plane's audience only (the kubelet rotates it; the waypoint re-reads it per
            // request). The CA issues it this pod's own identity and nothing else.
            volumes: [
              {
                name: 'ambit-token',
                projected: { sources: [{ serviceAccountToken: { audience: s.tokenAudience ?? TOKEN_AUDIENCE, expirationSeconds: 3600, path: 'token' } }] },
              },
            ],
          },
        },
      },
    },
  };
}

/** True when every field of `desired` is in `actual` with the same value (the server adds defaults). */
export function isSubset(desired: unknown, actual: unknown): boolean {
  if (Array.isArray(desired)) {
    return Array.isArray(actual) && actual.length === desired.length && desired.every((d, i) => isSubset(d, actual[i]));
  }
  if (desired !== null && typeof desired === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(desired).every(([k, v]) => v === undefined || isSubset(v, (actual as Record<string, unknown>)[k]));
  }
  return desired === actual;
}
