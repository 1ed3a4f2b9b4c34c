/**
 * RequestMirror: a copy of the request goes to the mirror backend, fire and forget. Its response
 * is read and discarded and never delays or changes the client's; its Host carries Envoy's
 * "-shadow" suffix so the mirror can tell copies from real traffic.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Logger } from '../../common/log';
import type { RequestMirror__Output } from '../../common/proto/generated/ambit/v1/RequestMirror';
import type { WaypointView } from '../model/waypoint-view';
import type { UpstreamExchanges } from '../upstream/upstream-exchange';
import type { UpstreamStates } from '../upstream/upstream-state';
import { resolveBackend, upstreamVersion } from './backend';

export interface MirrorDeps {
  readonly states: UpstreamStates;
  readonly exchanges: UpstreamExchanges;
  readonly logger: Logger;
}

export function sendMirror(
  deps: MirrorDeps,
  view: WaypointView,
  mirror: RequestMirror__Output,
  req: { method: string; path: string; authority: string; headers: OutgoingHttpHeaders; body: Buffer | undefined; grpc: boolean; port: number },
): void {
  if (!mirror.backend) return;
  const backend = resolveBackend(view, mirror.backend, req.port);
  if (!backend) return;
  const endpoints = view.endpointsOf(backend.service, backend.port);
  const state = deps.states.get(view, backend.service, backend.port);
  const ep = state.balancer.pick(endpoints, undefined);
  if (!ep) return;
  const host = req.authority.replace(/^([^:]+)/, '$1-shadow');
  deps.exchanges
    .send(ep, upstreamVersion(view, backend, req.grpc), { method: req.method, path: req.path, authority: host, headers: req.headers, body: req.body, timeoutMs: 30_000 })
    .then(
      (r) => r.body.resume(),
      (e: Error) => deps.logger.debug({ err: e.message, mirror: backend.service.hostname }, 'mirror request failed (ignored)'),
    );
}
