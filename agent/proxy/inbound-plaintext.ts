/**
 * A pod's 15006 listener: plaintext connections steered here by sk_lookup (from clients outside
 * the mesh). The accepted socket's local address is the original destination. PeerAuthentication
 * decides whether plaintext is allowed at all; authorization runs without a source identity.
 */
import net from 'node:net';
import { abort, carry, markClosed } from './carry';
import { admitInbound, destinationPeer, InboundRefusal, type InboundDeps } from './inbound';
import type { LocalPod } from './local-pod';
import type { ConnectionObserver } from './observer';

export function handlePlaintextInbound(deps: InboundDeps & { observer: ConnectionObserver }, pod: LocalPod, client: net.Socket): void {
  client.pause();
  client.on('error', () => undefined);
  const attempt = {
    pod,
    transport: 'plaintext' as const,
    source: { address: client.remoteAddress ?? '', port: client.remotePort ?? 0 },
    destinationAddress: client.localAddress ?? '',
    destinationPort: client.localPort ?? 0,
  };
  admitInbound(deps, attempt).then(
    ({ app, entry }) => {
      entry.close = (reason) => {
        markClosed(entry, reason, 'DENY');
        abort(app);
        abort(client);
      };
      client.resume();
      void carry(deps.table, deps.observer, entry, client, app);
    },
    (e: Error) => {
      const view = deps.view();
      deps.observer.failed(
        { direction: 'inbound', transport: 'plaintext', source: { ...attempt.source, workload: view.workloadAt(attempt.source.address) }, destination: destinationPeer(view, attempt) },
        { flags: e instanceof InboundRefusal ? e.flags : 'UF', error: e, policy: e instanceof InboundRefusal ? e.policy : undefined },
      );
      abort(client);
    },
  );
}
