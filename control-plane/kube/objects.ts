/**
 * Kubernetes-shaped objects as sources deliver them: already validated against the schemas in
 * control-plane/schemas/, so translation may rely on these shapes. Only the fields Ambit reads are
 * typed; the schemas are the full contract.
 */

export interface ObjectMeta {
  name: string;
  /** Absent for cluster-scoped kinds (Namespace); sources default namespaced kinds to "default". */
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  resourceVersion?: string;
  generation?: number;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
}

export interface KubeObject<Spec = unknown, Status = unknown> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
}

/** `<kind>/<namespace>/<name>`; the namespace part is empty for cluster-scoped objects. */
export type ObjectKey = string;

export function objectKey(o: Pick<KubeObject, 'kind' | 'metadata'>): ObjectKey {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

export function parseObjectKey(key: ObjectKey): { kind: string; namespace: string; name: string } {
  const [kind, namespace, ...rest] = key.split('/');
  return { kind, namespace, name: rest.join('/') };
}

/** The kinds a source may deliver, with their apiVersions (the upstream API groups). */
export const SUPPORTED_KINDS = {
  Namespace: ['v1'],
  Pod: ['v1'],
  Service: ['v1'],
  ServiceAccount: ['v1'],
  /** Endpoints of Services without a selector (hand-written, or another controller's). */
  EndpointSlice: ['discovery.k8s.io/v1'],
  AuthorizationPolicy: ['security.istio.io/v1', 'security.istio.io/v1beta1'],
  PeerAuthentication: ['security.istio.io/v1', 'security.istio.io/v1beta1'],
  RequestAuthentication: ['security.istio.io/v1', 'security.istio.io/v1beta1'],
  DestinationRule: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'],
  Gateway: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'],
  HTTPRoute: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'],
  GRPCRoute: ['gateway.networking.k8s.io/v1'],
  /** Ambit's fault injection, referenced from HTTPRoute filters through ExtensionRef. */
  FaultInjection: ['ambit.dev/v1alpha1'],
  /** Ambit's local rate limit (Envoy token bucket), referenced from route filters through ExtensionRef. */
  LocalRateLimit: ['ambit.dev/v1alpha1'],
} as const;

export type SupportedKind = keyof typeof SUPPORTED_KINDS;

export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set(['Namespace']);

// ---- the fields translation reads ------------------------------------------------------------

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface Probe {
  httpGet?: { path?: string; port: number | string; scheme?: 'HTTP' | 'HTTPS'; httpHeaders?: Array<{ name: string; value: string }> };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: Array<{ name: string; value?: string }>;
  ports?: ContainerPort[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}

export interface PodSpec {
  nodeName?: string;
  serviceAccountName?: string;
  containers: Container[];
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  terminationGracePeriodSeconds?: number;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
}

export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  hostIP?: string;
  conditions?: PodCondition[];
}

export type Pod = KubeObject<PodSpec, PodStatus>;

export interface ServicePortSpec {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
}

export interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: ServicePortSpec[];
  clusterIP?: string;
  clusterIPs?: string[];
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
}

export type Service = KubeObject<ServiceSpec>;
export type Namespace = KubeObject<Record<string, never>>;

/** The label that ties an EndpointSlice to its Service (same namespace). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface EndpointSliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  targetRef?: { kind?: string; namespace?: string; name?: string };
}

export interface EndpointSlicePort {
  name?: string;
  port?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/** discovery.k8s.io/v1: no spec; its fields sit at the top level. */
export interface EndpointSlice extends KubeObject {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: EndpointSliceEndpoint[];
  ports?: EndpointSlicePort[];
}
