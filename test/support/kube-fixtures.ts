// Small builders for Kubernetes-shaped objects in tests; defaults are what a cluster would fill in.
import type { KubeObject, Pod, Service } from '../../control-plane/kube/objects';

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export interface PodOptions {
  namespace?: string;
  labels?: Record<string, string>;
  node?: string;
  ip?: string;
  ready?: boolean;
  serviceAccount?: string;
  ports?: Array<{ name?: string; containerPort: number }>;
}

export function pod(name: string, o: PodOptions = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels ?? {} },
    spec: {
      nodeName: o.node ?? 'node1',
      serviceAccountName: o.serviceAccount,
      containers: [{ name: 'app', command: ['node', 'app.js'], ports: o.ports }],
    },
    status: o.ip === undefined
      ? { phase: 'Pending' }
      : { phase: 'Running', podIP: o.ip, podIPs: [{ ip: o.ip }], conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

export function service(
  name: string,
  o: { namespace?: string; selector?: Record<string, string>; labels?: Record<string, string>; clusterIP?: string; ports?: Array<{ name?: string; port: number; targetPort?: number | string; appProtocol?: string }> } = {},
): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels ?? {} },
    spec: { selector: o.selector ?? { app: name }, clusterIP: o.clusterIP, ports: o.ports ?? [{ name: 'http', port: 80, targetPort: 8080 }] },
  };
}

export function object(kind: string, apiVersion: string, name: string, namespace: string, spec: unknown, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion, kind, metadata: { name, namespace, ...extra }, spec };
}

export const authorizationPolicy = (name: string, namespace: string, spec: unknown, annotations?: Record<string, string>): KubeObject =>
  object('AuthorizationPolicy', 'security.istio.io/v1', name, namespace, spec, annotations ? { annotations } : {});

export const waypointGateway = (name: string, namespace: string, waypointFor?: string): KubeObject =>
  object('Gateway', 'gateway.networking.k8s.io/v1', name, namespace, {
    gatewayClassName: 'istio-waypoint',
    listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }],
  }, waypointFor ? { labels: { 'istio.io/waypoint-for': waypointFor } } : {});
