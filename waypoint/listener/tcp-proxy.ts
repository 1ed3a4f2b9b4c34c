/**
 * TCP through the waypoint, for ports that are not HTTP: an endpoint of the dialed service is
 * chosen by the destination's load balancer (outlier ejections respected), the connection opened
 * (HBONE or plain) and bytes relayed both ways with half-close and resets carried over.
 */
import type { Duplex } from 'node:stream';
import { relay } from '../../common/hbone/relay';
import type { Logger } from '../../common/log';
import type { WaypointView } from '../model/waypoint-view';
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
