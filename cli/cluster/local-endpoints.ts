// Where the local runtime's processes answer HTTP: each node's agent on its own loopback address
// in the runtime's network namespace (admin 15000, metrics 15020, readiness 15021), a waypoint on
// 127.0.0.1 inside its pod's network namespace, the control plane's status server at the address
// status.json records.
import { Ports } from '../../common/ports';
import type { StatusDoc } from '../local/runtime-record';
import { CliError, CliErrorCodes } from './errors';
import type { LocalTarget } from './local-target';
import type { HttpTarget } from './netns-http';
import type { ClusterView } from './target';
import { waypointPods } from '../waypoint/waypoint-usage';

export type AgentPort = 'admin' | 'metrics' | 'readiness';

export function agentEndpoint(target: LocalTarget, status: StatusDoc, node: string, port: AgentPort): HttpTarget {
  const n = status.nodes.find((x) => x.name === node);
  if (n === undefined) {
    throw new CliError(CliErrorCodes.UNKNOWN_NODE, `there is no node ${node} (nodes: ${status.nodes.map((x) => x.name).join(', ') || 'none'})`);
  }
  if (n.agent === undefined || !n.agent.running) {
    throw new CliError(CliErrorCodes.UNKNOWN_NODE, `the agent of ${node} is not running${n.agent ? ' (it is restarting)' : ''}; see ${n.agent?.log ?? target.paths.runtimeLog}`);
  }
  return { host: n.agent.adminAddress, port: Ports[port], netnsPath: target.runtimeNetns };
}

export function waypointEndpoint(view: ClusterView, namespace: string, name: string, port: AgentPort): HttpTarget {
  const pods = waypointPods(view, { namespace, name });
  if (pods.length === 0) {
    throw new CliError(CliErrorCodes.WAYPOINT_NOT_FOUND, `there is no waypoint ${namespace}/${name} (no pod labelled gateway.networking.k8s.io/gateway-name=${name} in ${namespace}); \`ambit waypoint list\` shows the ones there are`);
  }
  const running = pods.find((p) => p.phase === 'Running' && p.netns !== undefined);
  if (running === undefined) {
    throw new CliError(CliErrorCodes.UNREACHABLE, `waypoint ${namespace}/${name} has no running pod (${pods.map((p) => `${p.name}: ${p.phase}`).join(', ')})`);
  }
  return { host: '127.0.0.1', port: Ports[port], netnsPath: `/run/netns/${running.netns}` };
}

/** The control plane's status server (http://host:port in status.json). */
export function controlPlaneEndpoint(target: LocalTarget, status: StatusDoc): HttpTarget | undefined {
  if (status.controlPlane.state !== 'running') return undefined;
  const u = new URL(status.controlPlane.httpAddress);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port), netnsPath: target.runtimeNetns };
}
