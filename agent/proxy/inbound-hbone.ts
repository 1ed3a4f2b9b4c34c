/**
 * A pod's 15008 listener, behind the HBONE server (TLS with the pod's certificate, the client's
 * SPIFFE identity verified): each CONNECT names the destination (this pod's IP and the app port).
 * The tunnel is answered 200 only once the app connection is up; a refusal answers 403 (policy),
 * 503 (app not reachable) or 400/404 (not addressed to this pod), with the reason in a header.
 */
import type { HboneRequest } from '../../common/hbone/server';
import { abort, carry, markClosed } from './carry';
import { admitInbound, destinationPeer, InboundRefusal, type InboundDeps } from './inbound';
import type { LocalPod } from './local-pod';
import type { ConnectionObserver } from './observer';

export function handleHboneTunnel(deps: InboundDeps & { observer: ConnectionObserver }, pod: LocalPod, req: HboneRequest): void {
  const view = deps.view();
  const source = { address: req.remoteAddress ?? '', port: req.remotePort ?? 0, identity: req.peer.uri };
  const attempt = { pod, transport: 'hbone' as const, source, destinationAddress: req.authority.host, destinationPort: req.authority.port };
  if (!pod.ips.includes(req.authority.host)) {
    req.reject(404, `${req.authority.host} is not an address of ${pod.namespace}/${pod.name}`);
    deps.observer.failed(
      { direction: 'inbound', transport: 'hbone', source: { ...source, workload: view.workloadAt(source.address) }, destination: destinationPeer(view, attempt) },
      { flags: 'NR', error: new Error(`HBONE authority ${req.authority.host} does not belong to this pod`) },
    );
    return;
  }
  admitInbound(deps, attempt).then(
    ({ app, entry }) => {
      let stream;
      try {
        stream = req.accept();
      } catch (e) {
        // The client went away while we were connecting to the app.
        deps.table.remove(entry);
        app.destroy();
        return;
      }
      entry.close = (reason) => {
        markClosed(entry, reason, 'DENY');
        abort(app);
        abort(stream);
      };
      void carry(deps.table, deps.observer, entry, stream, app);
    },
    (e: Error) => {
      const refusal = e instanceof InboundRefusal ? e : undefined;
      const status = refusal?.flags === 'DENY' ? 403 : refusal?.flags === 'NR' ? 404 : 503;
      req.reject(status, e.message);
      deps.observer.failed(
        { direction: 'inbound', transport: 'hbone', source: { ...source, workload: view.workloadAt(source.address) }, destination: destinationPeer(view, attempt) },
        { flags: refusal?.flags ?? 'UF', error: e, policy: refusal?.policy },
      );
    },
  );
}
