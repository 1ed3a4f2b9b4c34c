/**
 * The outbound pipeline for one captured connection (accepted on a pod's 15001):
 *   originalDestination -> identify (source pod, destination in the mesh view) -> plan
 *   -> tunnel (HBONE, node-local hand-off, or passthrough; next candidate on connect failure)
 *   -> copy.
 * Authorization is the destination's job (its agent, or our own inbound stage for the local hand-
 * off), as in Istio; the source side reports with reporter="source".
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { OrigDstLookup } from '../capture/orig-dst';
import { dialInNetns } from '../../common/net/netns-dial';
import { AGENT_SOCKET_MARK } from '../../common/ports';
import { AgentError, AgentErrorCodes } from '../errors';
import { workloadIdentity, type MeshView, type Workload } from '../model/mesh-view';
import { abort, carry, markClosed } from './carry';
import type { ConnectionTable, Peer } from './connection-table';
import { admitInbound, InboundRefusal, type InboundDeps } from './inbound';
import type { LocalPod } from './local-pod';
import type { ConnectionObserver } from './observer';
import { planOutbound, type Hop, type PlanContext } from './outbound-plan';
import { baggageOf, forwardedFor, newTraceparent } from './trace-headers';

/** Opens an HBONE tunnel from `pod` (the pool, certificates and dialing live behind this). */
export interface TunnelOpener {
  open(pod: LocalPod, hop: Extract<Hop, { kind: 'hbone' }>, headers: Record<string, string>): Promise<{ stream: Duplex; peerIdentity: string }>;
}

export interface OutboundDeps extends InboundDeps {
  node: string;
  clusterName: string;
  origDst: OrigDstLookup;
  tunnels: TunnelOpener;
  observer: ConnectionObserver;
  planContext(): PlanContext;
  /** The local pod a workload belongs to, for the node-local hand-off. */
  localPodOf(workload: Workload): LocalPod | undefined;
}

export async function handleOutbound(deps: OutboundDeps, pod: LocalPod, client: net.Socket): Promise<void> {
  client.pause();
  client.on('error', () => undefined); // reported through the relay or the failure path
  const view = deps.view();
  const sourceWorkload = view.workloadNamed(pod.namespace, pod.name);
  // The client reached 15001 over the pod's loopback; to everyone else it is the pod's own IP.
  const family = net.isIPv6(client.remoteAddress ?? '') ? 6 : 4;
  const podAddress = pod.ips.find((ip) => net.isIP(ip) === family) ?? pod.ips[0] ?? '';
  const source: Peer = { address: podAddress, port: client.remotePort ?? 0, workload: sourceWorkload, identity: pod.identity.uri };

  const dst = deps.origDst.lookup(client);
  if (!dst) {
    deps.observer.failed(
      { direction: 'outbound', transport: 'passthrough', source, destination: { address: client.localAddress ?? '', port: client.localPort ?? 0 } },
      { flags: 'NR', error: new AgentError(AgentErrorCodes.NO_ORIGINAL_DESTINATION, 'captured connection without a recorded original destination') },
    );
    abort(client);
    return;
  }

  const plan = planOutbound(deps.planContext(), sourceWorkload, dst.address, dst.port);
  const service = plan.service ? `${plan.service.namespace}/${plan.service.name}` : undefined;
  const destinationOf = (hop?: Hop): Peer => ({
    address: hop?.address ?? dst.address,
    port: hop === undefined ? dst.port : hop.port,
    workload: hop?.workload,
    identity: hop?.workload && hop.kind !== 'passthrough' ? identityOf(hop.workload) : undefined,
  });
  if (plan.hops.length === 0) {
    const reason = plan.failure?.reason ?? 'no route';
    deps.observer.failed(
      { direction: 'outbound', transport: 'hbone', source, destination: destinationOf(), service },
      { flags: plan.failure?.flags ?? 'NR', error: new AgentError(AgentErrorCodes.NO_HEALTHY_UPSTREAM, reason) },
    );
    abort(client);
    return;
  }

  let lastError: Error | undefined;
  let lastFlags = 'UF';
  let lastPolicy: string | undefined;
  let lastHop: Hop = plan.hops[0];
  for (const hop of plan.hops) {
    lastHop = hop;
    try {
      if (client.destroyed) return;
      if (hop.kind === 'local') return await localHandOff(deps, pod, client, source, hop, service);
      const upstream = await openHop(deps, pod, hop, source);
      const entry = deps.table.add({
        direction: 'outbound',
        transport: hop.kind === 'hbone' ? 'hbone' : 'passthrough',
        source,
        destination: { ...destinationOf(hop), identity: upstream.peerIdentity ?? destinationOf(hop).identity },
        service,
        ...(hop.kind === 'hbone' ? { hboneAddr: hop.authority } : {}),
        podUid: pod.uid,
        close: (reason) => {
          markClosed(entry, reason);
          abort(upstream.stream);
          abort(client);
        },
      });
      client.resume();
      return await carry(deps.table, deps.observer, entry, client, upstream.stream);
    } catch (e) {
      lastError = e as Error;
      if (e instanceof InboundRefusal) {
        lastFlags = e.flags;
        lastPolicy = e.policy;
        // A policy refusal is final; trying another endpoint would bypass it. A local app that
        // does not accept (UF) or a pod gone from the config (NR) moves on, as remote hops do.
        if (e.flags === 'DENY') break;
        continue;
      }
      const status = (e as { status?: number }).status;
      if (status === 401 || status === 403) {
        lastFlags = 'DENY';
        break;
      }
    }
  }
  deps.observer.failed(
    {
      direction: 'outbound',
      transport: lastHop.kind === 'passthrough' ? 'passthrough' : lastHop.kind,
      source,
      destination: destinationOf(lastHop),
      service,
      ...(lastHop.kind === 'hbone' ? { hboneAddr: lastHop.authority } : {}),
    },
    { flags: lastFlags, error: lastError, policy: lastPolicy },
  );
  abort(client);
}

async function openHop(deps: OutboundDeps, pod: LocalPod, hop: Exclude<Hop, { kind: 'local' }>, source: Peer): Promise<{ stream: Duplex; peerIdentity?: string }> {
  if (hop.kind === 'passthrough') {
    const stream = await dialInNetns(pod.netnsPath, hop.address, hop.port, { mark: AGENT_SOCKET_MARK, noDelay: true, timeoutMs: deps.connectTimeoutMs });
    return { stream };
  }
  const headers: Record<string, string> = { forwarded: forwardedFor(source.address), traceparent: newTraceparent() };
  const baggage = baggageOf(source.workload, deps.clusterName);
  if (baggage) headers.baggage = baggage;
  return deps.tunnels.open(pod, hop, headers);
}

/** Same node: the destination pod's inbound stage, in process, with the same policy and no TLS. */
async function localHandOff(
  deps: OutboundDeps,
  pod: LocalPod,
  client: net.Socket,
  source: Peer,
  hop: Extract<Hop, { kind: 'local' }>,
  service: string | undefined,
): Promise<void> {
  const target = deps.localPodOf(hop.workload);
  // By name, then by address: a pod recreated under the same name has new IPs.
  if (!target || !target.ips.includes(hop.address)) {
    throw new AgentError(AgentErrorCodes.UNKNOWN_DESTINATION, `${hop.workload.namespace}/${hop.workload.name} at ${hop.address} is no longer on this node`);
  }
  const attempt = { pod: target, transport: 'local' as const, source: { ...source, identity: pod.identity.uri }, destinationAddress: hop.address, destinationPort: hop.port, service };
  // A refusal propagates as InboundRefusal; the caller reports it once.
  const admitted = await admitInbound(deps, attempt);
  const { app, entry } = admitted;
  entry.close = (reason) => {
    markClosed(entry, reason, 'DENY');
    abort(app);
    abort(client);
  };
  client.resume();
  await carry(deps.table, deps.observer, entry, client, app);
}

/** The SPIFFE URI a workload's certificate carries. */
export const identityOf = workloadIdentity;

export type { MeshView };
