// The runtime's state as the two records (runtime-record.ts) describe it, computed from the
// cluster, the pod runners and the desired objects. Pure apart from reading the runners.
import type { ProcessIdentity, SandboxCluster } from '../../common/sandbox';
import { podSubnetV4, podSubnetV6 } from '../../common/sandbox';
import type { Pod, Service } from '../../control-plane/kube/objects';
import type { ConfigProblem } from '../../control-plane/sources/source';
import type { PodRunner } from './pod-runner';
import type { AgentStatus, EnrollmentView, RecordedNode, RuntimeRecord, ServiceStatus, StatusDoc } from './runtime-record';
import { RECORD_VERSION } from './runtime-record';
import { endpointsOf } from './service-endpoints';

export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';

/** Pods of a waypoint Gateway carry it (as Kubernetes Gateway implementations label them). */
export const WAYPOINT_GATEWAY_LABEL = 'gateway.networking.k8s.io/gateway-name';

/**
 * Ambient when the pod or its namespace says `ambient`; the pod's own `none` opts out. A waypoint's
 * own pods are never captured (as in Istio): they terminate HBONE themselves on 15008.
 */
export function isAmbient(pod: Pod, namespaceLabels: Readonly<Record<string, string>>): boolean {
  if (pod.metadata.labels?.[WAYPOINT_GATEWAY_LABEL] !== undefined) return false;
  const own = pod.metadata.labels?.[DATAPLANE_MODE_LABEL];
  if (own !== undefined) return own === 'ambient';
  return namespaceLabels[DATAPLANE_MODE_LABEL] === 'ambient';
}

export interface SnapshotInput {
  runtime: ProcessIdentity & { startedAt: string; dir: string; stateDir: string; prefix: string };
  state: StatusDoc['state'];
  controlPlane: StatusDoc['controlPlane'];
  cluster: SandboxCluster | undefined;
  tokenFiles: ReadonlyMap<string, string>;
  agents?: ReadonlyMap<string, AgentStatus>;
  runners: readonly PodRunner[];
  services: readonly Service[];
  clusterIP: (svc: Service) => string;
  namespaceLabels: (ns: string) => Record<string, string>;
  problems: readonly ConfigProblem[];
}

function nodesOf(input: SnapshotInput): RecordedNode[] {
  return (input.cluster?.nodes ?? []).map((n) => ({
    name: n.name,
    index: n.index,
    netns: n.netns,
    cgroupPath: n.cgroupPath,
    hostCgroupPath: n.hostCgroupPath,
    subnets: [podSubnetV4(n.index), podSubnetV6(n.index)],
    hostIP: n.gatewayV4,
    ...(input.tokenFiles.has(n.name) ? { tokenFile: input.tokenFiles.get(n.name) } : {}),
  }));
}

export function runtimeRecord(input: SnapshotInput): RuntimeRecord {
  return {
    version: RECORD_VERSION,
    runtime: { pid: input.runtime.pid, startTime: input.runtime.startTime },
    prefix: input.runtime.prefix,
    startedAt: input.runtime.startedAt,
    dir: input.runtime.dir,
    ...(input.cluster ? { cgroupRoot: input.cluster.cgroupRoot } : {}),
    ...(input.cluster?.pinDir ? { pinDir: input.cluster.pinDir } : {}),
    ...(input.cluster?.fabricNetns ? { fabricNetns: input.cluster.fabricNetns } : {}),
    nodes: nodesOf(input),
    pods: input.runners.flatMap((r) => {
      const sb = r.sandboxPod;
      if (sb === undefined) return [];
      const processes = r.runners.flatMap((c) => (c.identity ? [{ container: c.name, ...c.identity }] : []));
      return [{ namespace: r.namespace, name: r.name, node: r.nodeName, netns: sb.netnsName, cgroupPath: sb.cgroupPath, ips: [sb.ipv4, sb.ipv6], processes }];
    }),
  };
}

export function statusDoc(input: SnapshotInput): StatusDoc {
  const pods = input.runners.map((r) => {
    const s = r.status();
    const enrolled: EnrollmentView = r.enrolled ? 'enrolled' : isAmbient(r.spec, input.namespaceLabels(r.namespace)) ? 'no agent yet' : 'not ambient';
    return { ...s, enrolled, restarts: s.containers.reduce((n, c) => n + c.restartCount, 0) };
  });
  const podViews = input.runners.map((r, i) => ({ pod: r.spec, ip: pods[i].podIPs[0], ready: pods[i].ready }));
  const services: ServiceStatus[] = input.services.map((svc) => ({
    namespace: svc.metadata.namespace ?? 'default',
    name: svc.metadata.name,
    clusterIP: input.clusterIP(svc),
    ports: (svc.spec?.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpointsOf(svc, podViews),
  }));
  const nodes = nodesOf(input).map((n) => {
    const agent = input.agents?.get(n.name);
    return { ...n, pods: pods.filter((p) => p.node === n.name).length, ...(agent ? { agent } : {}) };
  });
  const byName = <T extends { namespace: string; name: string }>(a: T, b: T): number =>
    a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
  return {
    version: RECORD_VERSION,
    state: input.state,
    updatedAt: new Date().toISOString(),
    runtime: input.runtime,
    controlPlane: input.controlPlane,
    nodes,
    ...(input.cluster?.fabricNetns ? { fabricNetns: input.cluster.fabricNetns } : {}),
    pods: pods.sort(byName),
    services: services.sort(byName),
    problems: [...input.problems],
  };
}
