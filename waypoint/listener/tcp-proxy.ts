/**
 * TCP through the waypoint, for ports that are not HTTP: an endpoint of the dialed service is
 * chosen by the destination's load balancer (outlier ejections respected), the connection opened
 * (HBONE or plain) and bytes relayed both ways with half-close and resets carried over.
 */
import type { Duplex } from 'node:stream';
import { relay } from '../../common/hbone/relay';
import type { Logger } from '../../common/log';
import type { Service, WaypointView } from '../model/waypoint-view';
import type { RequestFacts } from '../pipeline/request-facts';
import { authorizeRequest } from '../security/l7-authorization';
import type { UpstreamConnector } from '../upstream/connector';
import type { UpstreamStates } from '../upstream/upstream-state';
import type { DownstreamContext } from './downstream-context';

export interface TcpProxyDeps {
  readonly view: () => WaypointView;
  readonly states: UpstreamStates;
  readonly connector: UpstreamConnector;
  readonly logger: Logger;
  readonly onDone?: (r: { ctx: DownstreamContext; upstream?: string; sent: number; received: number; error?: string }) => void;
}

/**
 * AuthorizationPolicy for a TCP connection through the waypoint: the policies' L4 form (what the
 * control plane computes for agents: L7 conditions fail closed, a DENY with L7 fields denies on its
 * L4 part alone), evaluated on the peer's identity, address and the destination port.
 */
function tcpDenied(view: WaypointView, service: Service | undefined, ctx: DownstreamContext): { policy?: string; reason: string } | undefined {
  const policies = view.authorizationsFor(service);
  if (policies.length === 0) return undefined;
  const l4 = policies.map((p) => ({ ...p, l7Rules: p.l4Rules }));
  const facts: RequestFacts = { method: '', path: '', host: '', headers: {}, protocol: 'HTTP/1.1', grpc: false, source: ctx.peer, destination: ctx.target! };
  const verdict = authorizeRequest(l4, facts, undefined);
  return verdict.allowed ? undefined : { policy: verdict.policy, reason: verdict.reason };
}

export async function proxyTcp(deps: TcpProxyDeps, stream: Duplex, ctx: DownstreamContext): Promise<void> {
  const view = deps.view();
  const target = ctx.target!;
  const service = view.serviceAt(target.address);
  const workload = service ? undefined : view.workloadAt(target.address);
  let ep;
  if (service) {
    const state = deps.states.get(view, service, target.port);
    const all = view.endpointsOf(service, target.port);
    ep = state.balancer.pick(state.outliers ? state.outliers.available(all) : all, ctx.peer.address);
  } else if (workload && workload.ready && workload.addresses.length > 0) {
    ep = { uid: workload.uid, address: workload.addresses[0], port: target.port, workload, hbone: workload.protocol === 'HBONE' };
  }
  const denied = tcpDenied(view, service ?? (workload ? view.workloadTarget(target.address, target.port) : undefined), ctx);
  if (denied) {
    deps.logger.info({ target: `${target.address}:${target.port}`, source: ctx.peer.identity, policy: denied.policy, reason: denied.reason }, 'TCP connection denied by authorization policy');
    deps.onDone?.({ ctx, sent: 0, received: 0, error: `denied: ${denied.reason}` });
    stream.destroy();
    return;
  }
  if (!ep) {
    deps.onDone?.({ ctx, sent: 0, received: 0, error: 'no healthy upstream' });
    stream.destroy();
    return;
  }
  let upstream: Duplex;
  try {
    upstream = await deps.connector.connect(ep, ctx.tunnelHeaders);
  } catch (e) {
    deps.logger.debug({ err: (e as Error).message, target: `${target.address}:${target.port}` }, 'TCP upstream connect failed');
    deps.onDone?.({ ctx, upstream: `${ep.address}:${ep.port}`, sent: 0, received: 0, error: (e as Error).message });
    stream.destroy();
    return;
  }
  const r = await relay(stream, upstream);
  deps.onDone?.({ ctx, upstream: `${ep.address}:${ep.port}`, sent: r.bytesAToB, received: r.bytesBToA, error: r.error?.message });
}
