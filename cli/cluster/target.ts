// The cluster the CLI acts on, behind one small interface: the running local runtime (its API is
// the watched YAML directory, local-target.ts) or Kubernetes (kube-target.ts). Commands read a
// ClusterView and make changes through the target; they never know which one it is, except that
// only the local runtime can tell when a change is live (`live`).
import { CliError, CliErrorCodes } from './errors';
import type { WaypointManifestOptions } from '../waypoint/waypoint-manifests';

export const Labels = {
  DATAPLANE_MODE: 'istio.io/dataplane-mode',
  USE_WAYPOINT: 'istio.io/use-waypoint',
  USE_WAYPOINT_NAMESPACE: 'istio.io/use-waypoint-namespace',
  WAYPOINT_FOR: 'istio.io/waypoint-for',
  GATEWAY_NAME: 'gateway.networking.k8s.io/gateway-name',
} as const;

/** Gateway classes that make a Gateway a waypoint (as the control plane reads them). */
export const WAYPOINT_CLASSES: ReadonlySet<string> = new Set(['ambit-waypoint', 'istio-waypoint']);

export type LabelMap = Readonly<Record<string, string>>;
/** A label's new value, or null to remove it. */
export type LabelChanges = Readonly<Record<string, string | null>>;

export interface NamespaceView {
  name: string;
  labels: LabelMap;
  /** False when the namespace only exists implicitly (local: objects use it, no Namespace object). */
  hasObject: boolean;
}

export type Enrollment = 'enrolled' | 'no agent yet' | 'not ambient';

export interface PodView {
  namespace: string;
  name: string;
  labels: LabelMap;
  node?: string;
  ips: string[];
  phase: string;
  ready: boolean;
  /** As the node's agent acked it (local runtime only). */
  enrolled?: Enrollment;
  /** Local runtime: the pod's network namespace (for config-dump of a waypoint). */
  netns?: string;
  /** Why it is not ready or restarts, when the runtime says ("readiness connect ECONNREFUSED, 3 restarts"). */
  detail?: string;
}

export interface ServiceView {
  namespace: string;
  name: string;
  labels: LabelMap;
  clusterIP?: string;
}

export interface GatewayView {
  namespace: string;
  name: string;
  className: string;
  labels: LabelMap;
  /** Local runtime: the file that defines it, relative to the directory. */
  file?: string;
}

export interface ClusterView {
  namespaces: NamespaceView[];
  pods: PodView[];
  services: ServiceView[];
  gateways: GatewayView[];
}

export type WaypointSpec = Pick<WaypointManifestOptions, 'name' | 'namespace' | 'for' | 'node'>;

export interface ClusterTarget {
  readonly kind: 'local' | 'kubernetes';
  /** One line for the user: which cluster this is. */
  readonly description: string;
  /** Fresh on every call. */
  view(): Promise<ClusterView>;
  /** Sets or removes labels of an existing namespace; returns what was done ("edited ns.yaml"). */
  setNamespaceLabels(namespace: string, changes: LabelChanges): Promise<string>;
  /** Creates a waypoint; returns what was done. */
  createWaypoint(spec: WaypointSpec): Promise<string>;
  deleteWaypoint(namespace: string, name: string): Promise<string>;
}

export const isWaypoint = (g: GatewayView): boolean => WAYPOINT_CLASSES.has(g.className);

/** The namespace, or UNKNOWN_NAMESPACE naming the ones that exist. */
export function requireNamespace(view: ClusterView, name: string, where: string): NamespaceView {
  const ns = view.namespaces.find((n) => n.name === name);
  if (ns !== undefined) return ns;
  const known = view.namespaces.map((n) => n.name).join(', ') || 'none';
  throw new CliError(CliErrorCodes.UNKNOWN_NAMESPACE, `namespace ${name} does not exist in ${where} (namespaces: ${known}); check the name`);
}

/** Kubernetes object names (RFC 1123 labels): what namespaces, nodes and our waypoints may be called. */
export const isDnsLabel = (s: string): boolean => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(s);

/** BAD_NAME unless `value` is a DNS label; caught before anything is read or written. */
export function requireDnsLabel(what: string, value: string): void {
  if (!isDnsLabel(value)) {
    throw new CliError(CliErrorCodes.BAD_NAME, `${what} "${value}" is not a valid name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`);
  }
}
