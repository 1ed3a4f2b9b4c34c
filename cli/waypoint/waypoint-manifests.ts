/**
 * The objects that make a waypoint, as a waypoint controller creates them for a Gateway of class
 * ambit-waypoint: the Gateway (HBONE listener on 15008), its Service (a stable address agents send
 * bound traffic to), and its pod running `ambit waypoint` with readiness on 15021. The pod is never
 * captured (istio.io/dataplane-mode: none): it terminates HBONE itself. Used by `ambit local`
 * directories, the tests, and (later) `ambit waypoint apply`.
 */
import YAML from 'yaml';
import { Ports } from '../../common/ports';

export interface WaypointManifestOptions {
  readonly name: string;
  readonly namespace: string;
  /** istio.io/waypoint-for: which traffic it takes (default: service). */
  readonly for?: 'service' | 'workload' | 'all';
  /** Pin the pod to a node (local runtime: spec.nodeName). */
  readonly node?: string;
  /** Extra environment for the waypoint (e.g. AMBIT_OTLP_ENDPOINT, AMBIT_LOG_LEVEL). */
  readonly env?: Readonly<Record<string, string>>;
}

export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

export function waypointManifests(o: WaypointManifestOptions): Array<Record<string, unknown>> {
  const labels = { [GATEWAY_NAME_LABEL]: o.name };
  return [
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: o.name, namespace: o.namespace, labels: { 'istio.io/waypoint-for': o.for ?? 'service' } },
      spec: { gatewayClassName: 'ambit-waypoint', listeners: [{ name: 'mesh', port: Ports.hbone, protocol: 'HBONE' }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: o.name, namespace: o.namespace, labels },
      spec: { selector: labels, ports: [{ name: 'mesh', port: Ports.hbone, targetPort: Ports.hbone }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${o.name}-0`, namespace: o.namespace, labels: { ...labels, 'istio.io/dataplane-mode': 'none' } },
      spec: {
        ...(o.node ? { nodeName: o.node } : {}),
        serviceAccountName: o.name,
        terminationGracePeriodSeconds: 5,
        containers: [
          {
            name: 'waypoint',
            command: ['ambit', 'waypoint'],
            env: Object.entries(o.env ?? {}).map(([name, value]) => ({ name, value })),
            readinessProbe: { httpGet: { path: '/healthz/ready', port: Ports.readiness }, periodSeconds: 1, failureThreshold: 3 },
          },
        ],
      },
    },
  ];
}

export function waypointYaml(o: WaypointManifestOptions): string {
  return waypointManifests(o)
    .map((d) => YAML.stringify(d))
    .join('---\n');
}
