/**
 * The data path's policy port (agent/proxy/policy-port.ts) over the agent's mesh view: L4
 * authorization with the policies that select the destination, and its PeerAuthentication mode.
 */
import type { MeshView, Workload } from '../model/mesh-view';
import type { InboundPolicy, L4Attributes, Verdict } from '../proxy/policy-port';
import { authorize } from './authorization';
import { effectiveMtls } from './peer-authentication';

export class MeshInboundPolicy implements InboundPolicy {
  constructor(
    private readonly view: () => MeshView,
    private readonly rootNamespace: string,
  ) {}

  authorize(destination: Workload, conn: L4Attributes): Verdict {
    const decision = authorize(
      {
        sourcePrincipal: conn.sourceIdentity,
        sourceIp: conn.sourceAddress,
        destinationIp: conn.destinationAddress,
        destinationPort: conn.destinationPort,
      },
      this.view().authorizationsFor(destination),
    );
    return { allowed: decision.allowed, policy: decision.policy, reason: decision.reason };
  }

  mtlsMode(destination: Workload, port: number): 'STRICT' | 'PERMISSIVE' | 'DISABLE' {
    return effectiveMtls(destination, port, this.view().peerAuthentications, { rootNamespace: this.rootNamespace }).mode;
  }
}
