/**
 * The inbound half, shared by HBONE (15008), plaintext (15006) and the node-local hand-off:
 *   identify (destination workload, source workload) -> PeerAuthentication (plaintext only)
 *   -> authorize (L4) -> connect to the app inside the pod (from 127.0.0.6 / ::1, so sk_lookup
 *   does not steer it back to us) -> a connection-table entry that can be re-authorized later.
 * Failures are typed (AgentError) and reported to the observer once, by the caller.
 */
import net from 'node:net';
import { dialInNetns } from '../../common/net/netns-dial';
import { AGENT_SOCKET_MARK, AGENT_SOURCE_IPV4, AGENT_SOURCE_IPV6, Ports } from '../../common/ports';
import { AgentError, AgentErrorCodes } from '../errors';
import { workloadIdentity, type MeshView, type Workload } from '../model/mesh-view';
import type { ConnectionEntry, ConnectionTable, Peer, Transport } from './connection-table';
import type { LocalPod } from './local-pod';
import type { InboundPolicy } from './policy-port';

export interface InboundDeps {
  view(): MeshView;
  policy: InboundPolicy;
  table: ConnectionTable;
  connectTimeoutMs: number;
  /**
   * Addresses the node's kubelet probes come from (Istio SNATs them to 169.254.7.127): their
   * plaintext connections skip PeerAuthentication and authorization, as in Istio, so STRICT mTLS
   * does not make pods unready.
   */
  probeSources?: ReadonlySet<string>;
}

export interface InboundAttempt {
  pod: LocalPod;
  transport: Exclude<Transport, 'passthrough'>;
  source: Peer;
  destinationAddress: string;
  destinationPort: number;
  /** "<ns>/<name>" of the Service the client addressed, when known. */
  service?: string;
}

export interface Admitted {
  app: net.Socket;
  entry: ConnectionEntry;
}

/** Thrown for refusals, with what the observer needs. */
export class InboundRefusal extends AgentError {
  constructor(
    code: (typeof AgentErrorCodes)[keyof typeof AgentErrorCodes],
    message: string,
    readonly flags: string,
    readonly policy?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** The destination workload of a pod on this node (by name, else by address). */
export function podWorkload(view: MeshView, pod: LocalPod): Workload | undefined {
  return view.workloadNamed(pod.namespace, pod.name) ?? pod.ips.map((ip) => view.workloadAt(ip)).find((w) => w !== undefined);
}

export function destinationPeer(view: MeshView, a: Pick<InboundAttempt, 'pod' | 'destinationAddress' | 'destinationPort'>): Peer {
  return { address: a.destinationAddress, port: a.destinationPort, workload: podWorkload(view, a.pod), identity: a.pod.identity.uri };
}

export async function admitInbound(deps: InboundDeps, attempt: InboundAttempt): Promise<Admitted> {
  const view = deps.view();
  const { pod, destinationAddress: address, destinationPort: port } = attempt;
  const workload = podWorkload(view, pod);
  // The agent's own ports are never a destination (ztunnel's "self call"): a dial from 127.0.0.6 is
  // not steered, so podIP:15006 would land on our own listener again — an unbounded loop — and
  // podIP:15008 would nest a tunnel whose source looks like the agent itself.
  if (AGENT_PORTS.has(port) || attempt.source.address === AGENT_SOURCE_IPV4 || attempt.source.address === AGENT_SOURCE_IPV6) {
    throw new InboundRefusal(AgentErrorCodes.DENIED, `connection to the node agent's own port ${port} of ${pod.namespace}/${pod.name} refused`, 'DENY');
  }
  const probe = attempt.transport === 'plaintext' && deps.probeSources?.has(attempt.source.address) === true;
  if (!workload && !probe) {
    // Enrolled but not (yet) in the config: nothing to authorize against, so fail closed.
    throw new InboundRefusal(AgentErrorCodes.UNKNOWN_DESTINATION, `pod ${pod.namespace}/${pod.name} is not in the mesh config yet`, 'NR');
  }
  const source: Peer = { ...attempt.source, workload: attempt.source.workload ?? view.workloadAt(attempt.source.address) };

  if (!probe && attempt.transport === 'plaintext' && deps.policy.mtlsMode(workload!, port) === 'STRICT') {
    throw new InboundRefusal(
      AgentErrorCodes.PLAINTEXT_REFUSED,
      `plaintext connection from ${source.address} to ${pod.namespace}/${pod.name}:${port} refused: PeerAuthentication is STRICT`,
      'DENY',
    );
  }

  const check = () =>
    deps.policy.authorize(workload!, {
      sourceIdentity: source.identity,
      sourceAddress: source.address,
      destinationAddress: address,
      destinationPort: port,
    });
  const verdict = probe ? { allowed: true, reason: 'kubelet probe' } : viaWaypoint(view, workload!, attempt.source.identity) ?? check();
  if (!verdict.allowed) {
    throw new InboundRefusal(AgentErrorCodes.DENIED, `connection to ${pod.namespace}/${pod.name}:${port} denied: ${verdict.reason}`, 'DENY', verdict.policy);
  }

  let app: net.Socket;
  // The policy may change while we dial the app; the entry joins the table only afterwards, so
  // it is checked once more below against the view of that moment.
  const viewAtAdmission = deps.view();
  try {
    const from = net.isIPv6(address) ? AGENT_SOURCE_IPV6 : AGENT_SOURCE_IPV4;
    app = await dialInNetns(pod.netnsPath, address, port, { source: from, mark: AGENT_SOCKET_MARK, noDelay: true, timeoutMs: deps.connectTimeoutMs });
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new InboundRefusal(
      AgentErrorCodes.UPSTREAM_CONNECT,
      `the app in ${pod.namespace}/${pod.name} did not accept on port ${port} (${why})`,
      'UF',
      undefined,
      { cause: e },
    );
  }

  const entry = deps.table.add({
    direction: 'inbound',
    transport: attempt.transport,
    source,
    destination: { address, port, workload, identity: pod.identity.uri },
    service: attempt.service,
    podUid: pod.uid,
    // Policy changes re-evaluate against the newest view (the workload may have new labels too).
    recheck: probe ? undefined : () => {
      const now = deps.view();
      const w = podWorkload(now, pod);
      if (!w) return { allowed: false, reason: 'the destination left the mesh config' };
      const wp = viaWaypoint(now, w, source.identity);
      if (wp) return wp;
      if (attempt.transport === 'plaintext' && deps.policy.mtlsMode(w, port) === 'STRICT') {
        return { allowed: false, reason: 'PeerAuthentication is now STRICT for this plaintext connection' };
      }
      return deps.policy.authorize(w, { sourceIdentity: source.identity, sourceAddress: source.address, destinationAddress: address, destinationPort: port });
    },
    close: () => undefined,
  });
  if (deps.view() !== viewAtAdmission && entry.recheck) {
    const now = entry.recheck();
    if (!now.allowed) {
      deps.table.remove(entry);
      app.destroy();
      throw new InboundRefusal(AgentErrorCodes.DENIED, `connection to ${pod.namespace}/${pod.name}:${port} denied: ${now.reason}`, 'DENY', now.policy);
    }
  }
  return { app, entry };
}

/** The agent's listener ports inside a pod; never a destination of carried traffic. */
const AGENT_PORTS: ReadonlySet<number> = new Set([Ports.outbound, Ports.inbound, Ports.hbone, Ports.dns]);

/**
 * A workload bound to a waypoint accepts traffic only from that waypoint (ARCHITECTURE.md data
 * path, step 5), so L7 policy there cannot be skipped by dialing the pod directly. Returns the
 * refusal, or undefined when the rule does not apply or is met.
 */
function viaWaypoint(view: MeshView, destination: Workload, sourceIdentity: string | undefined): { allowed: false; reason: string } | undefined {
  const binding = destination.waypoint;
  if (!binding) return undefined;
  const waypoints = view.waypointWorkloads(binding.addresses);
  if (sourceIdentity !== undefined && waypoints.some((w) => workloadIdentity(w) === sourceIdentity)) return undefined;
  return { allowed: false, reason: `${destination.namespace}/${destination.name} takes traffic only through its waypoint ${binding.namespace}/${binding.name}` };
}
