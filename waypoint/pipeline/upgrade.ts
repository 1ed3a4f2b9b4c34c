/**
 * HTTP/1.1 Upgrade (WebSocket, RFC 6455 §4): routed and authorized like any request, then the
 * waypoint opens a connection to the chosen endpoint, replays the request head with its Upgrade
 * and Connection headers, and from then on relays bytes both ways: the 101 and everything after
 * it belong to the client and the backend. Refusals before that are ordinary HTTP responses.
 */
import http, { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { relay } from '../../common/hbone/relay';
import { WaypointErrorCodes } from '../errors';
import { downstreamContextOf } from '../listener/downstream-context';
import { isUsableBackend, pickBackend } from '../routing/backend-choice';
import type { UpstreamConnector } from '../upstream/connector';
import { authorize } from './authorize-stage';
import { resolveBackend } from './backend';
import { Exchange } from './exchange';
import { endToEndHeaders } from './hop-by-hop';
import type { PipelineDeps } from './pipeline';
import { receive } from './receive';
import { sourceWorkload } from './source-workload';

export function createUpgradeHandler(deps: PipelineDeps & { connector: UpstreamConnector }) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const ctx = downstreamContextOf(socket);
    if (!ctx) return void socket.destroy();
    // Node took its own error handler off the socket before 'upgrade': a reset during the awaits
    // below must not crash the process.
    socket.on('error', () => undefined);
    const view = deps.view();
    const { facts, service, port } = receive(req, ctx, view, deps.plainPort);
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as never);
    // A refusal ends the connection (nothing reads from it after an upgrade request) and is counted.
    res.shouldKeepAlive = false;
    res.once('finish', () => {
      socket.end();
      deps.telemetry.finish(ex);
    });
    const ex = new Exchange(req, res, ctx, facts, view);
    ex.service = service;
    ex.servicePort = port;
    ex.sourceWorkload = sourceWorkload(view, ctx);
    void (async () => {
      if (!service) return ex.reply(404, 'this waypoint serves no service here\n', { flag: 'NR', code: WaypointErrorCodes.UNKNOWN_SERVICE });
      const sel = view.routeTable.select({ hostname: service.hostname, name: service.name, namespace: service.namespace }, port, facts);
      if (sel.kind === 'no-match') return ex.reply(404, 'no route matched the upgrade request\n', { flag: 'NR', code: WaypointErrorCodes.NO_ROUTE });
      if (!(await authorize(ex, deps))) return;
      let backend = { service, port };
      if (sel.kind === 'matched') {
        ex.routeName = sel.name;
        const chosen = pickBackend(sel.rule, deps.random);
        const resolved = chosen && isUsableBackend(chosen) ? resolveBackend(view, chosen, port) : undefined;
        if (!resolved) return ex.reply(500, 'the route has no usable backend\n', { code: WaypointErrorCodes.INVALID_BACKEND });
        backend = resolved;
      }
      const state = deps.states.get(view, backend.service, backend.port);
      const all = view.endpointsOf(backend.service, backend.port);
      const ep = state.balancer.pick(state.outliers ? state.outliers.available(all) : all, undefined);
      if (!ep) return ex.reply(503, 'no healthy upstream\n', { flag: 'UH', code: WaypointErrorCodes.NO_HEALTHY_UPSTREAM });
      ex.endpoint = ep;
      let upstream: Duplex;
      try {
        upstream = await deps.connector.connect(ep, ctx.tunnelHeaders);
      } catch (e) {
        return ex.reply(503, `upstream connect error: ${(e as Error).message}\n`, { flag: 'UF', code: WaypointErrorCodes.UPSTREAM_FAILURE });
      }
      const headers = endToEndHeaders(facts.headers, true);
      const lines = [`${facts.method} ${facts.path} HTTP/1.1`, `host: ${facts.host}`];
      for (const [k, v] of Object.entries(headers)) {
        if (k === 'host' || v === undefined) continue;
        // Written raw: a value with CR/LF (e.g. from a JWT claim) would inject headers.
        for (const one of Array.isArray(v) ? v : [String(v)]) if (!/[\r\n]/.test(one)) lines.push(`${k}: ${one}`);
      }
      upstream.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      res.detachSocket(socket as never);
      ex.status = 101;
      const r = await relay(socket, upstream);
      ex.requestBytes = r.bytesAToB;
      ex.responseBytes = r.bytesBToA;
      deps.telemetry.finish(ex);
    })().catch((e: Error) => {
      deps.logger.error({ err: e }, 'upgrade handling failed');
      socket.destroy();
    });
  };
}
