/**
 * The waypoint's request pipeline, wired in one place:
 *
 *   receive -> route -> authorize -> filters -> upstream (balance, pool, retry, timeout) -> respond
 *
 * Each stage is a function in its own file and either passes the request on or answers it
 * (Exchange.reply). Telemetry sees every request exactly once, however it ended.
 */
import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Logger } from '../../common/log';
import { WaypointErrorCodes } from '../errors';
import { downstreamContextOf } from '../listener/downstream-context';
import type { DownstreamRequest, DownstreamResponse } from '../listener/http-front';
import { isWorkloadTarget, type WaypointView } from '../model/waypoint-view';
import type { RouteSelection } from '../routing/route-table';
import { isUsableBackend, pickBackend } from '../routing/backend-choice';
import { mirrorsOf } from '../routing/filters';
import { noRouteBody } from '../routing/no-route';
import type { RequestAuthenticator } from '../security/request-authentication';
import { authorize } from './authorize-stage';
import { Backend, resolveBackend, upstreamVersion } from './backend';
import { Exchange } from './exchange';
import { applyRuleFilters, RateLimits } from './filter-stage';
import { endToEndHeaders } from './hop-by-hop';
import { sendMirror } from './mirror';
import { receive } from './receive';
import { sourceWorkload } from './source-workload';
import { readBody } from './request-body';
import { respond } from './respond';
import { callUpstream, type UpstreamDeps } from './upstream-stage';

export interface RequestTelemetry {
  /** Starts the request's span; returns the traceparent to send upstream. */
  begin(ex: Exchange): string | undefined;
  finish(ex: Exchange): void;
}

export interface PipelineDeps extends UpstreamDeps {
  readonly view: () => WaypointView;
  readonly authenticatorFor: (ex: Exchange) => RequestAuthenticator;
  readonly rateLimits: RateLimits;
  readonly telemetry: RequestTelemetry;
  readonly logger: Logger;
  /** Port the plain listener reports when the Host header names no port. */
  readonly plainPort: number;
  readonly draining: () => boolean;
}

export function createPipeline(deps: PipelineDeps): (req: DownstreamRequest, res: DownstreamResponse) => void {
  return (req, res) => {
    const ctx = downstreamContextOf(req.socket);
    if (!ctx) {
      res.writeHead(500).end();
      return;
    }
    const view = deps.view();
    const { facts, service, port } = receive(req, ctx, view, deps.plainPort);
    const ex = new Exchange(req, res, ctx, facts, view);
    ex.service = service;
    ex.servicePort = port;
    ex.sourceWorkload = sourceWorkload(view, ctx);
    res.once('close', () => {
      ex.markGone();
      deps.telemetry.finish(ex);
    });
    if (deps.draining() && facts.protocol === 'HTTP/1.1') res.setHeader('connection', 'close');
    handle(ex, deps).catch((e: Error) => {
      deps.logger.error({ err: e, path: facts.path }, 'request pipeline failed');
      ex.reply(500, `internal error in the waypoint: ${e.message}\n`);
    });
  };
}

async function handle(ex: Exchange, deps: PipelineDeps): Promise<void> {
  const { facts, view } = ex;
  const traceparent = deps.telemetry.begin(ex);
  const service = ex.service;
  if (!service) {
    const what = ex.ctx.target ? `${facts.destination.address}:${facts.destination.port}` : `Host "${facts.host}"`;
    ex.reply(404, `this waypoint serves no service at ${what}; is the service bound to this waypoint (istio.io/use-waypoint)?\n`, {
      flag: 'NR',
      code: WaypointErrorCodes.UNKNOWN_SERVICE,
    });
    return;
  }

  // route
  const ref = { hostname: service.hostname, name: service.name, namespace: service.namespace };
  const sel: RouteSelection = isWorkloadTarget(service) ? { kind: 'default' } : view.routeTable.select(ref, ex.servicePort, facts);
  if (sel.kind === 'no-match') {
    ex.reply(404, noRouteBody(ref, ex.servicePort, facts, sel.routes), { flag: 'NR', code: WaypointErrorCodes.NO_ROUTE });
    return;
  }

  // authorize
  if (!(await authorize(ex, deps))) return;

  // filters
  let backend: Backend = { service, port: ex.servicePort };
  const rule = sel.kind === 'matched' ? sel.rule : undefined;
  if (sel.kind === 'matched') {
    ex.routeName = sel.name;
    if (!(await applyRuleFilters(ex, sel, sel.rule.filters, deps))) return;
    const chosen = pickBackend(sel.rule, deps.random);
    const resolved = chosen && isUsableBackend(chosen) ? resolveBackend(view, chosen, ex.servicePort) : undefined;
    if (!chosen || !resolved) {
      const why = !chosen ? 'has no backend with weight > 0' : `sends traffic to a backend that is not a usable Service (${chosen.serviceNamespace}/${chosen.serviceName})`;
      ex.reply(500, `route ${sel.name} rule ${sel.ruleIndex} ${why}\n`, { code: WaypointErrorCodes.INVALID_BACKEND });
      return;
    }
    backend = resolved;
    if (!(await applyRuleFilters(ex, sel, chosen.filters, deps))) return;
  }

  // upstream
  const headers: OutgoingHttpHeaders = endToEndHeaders(facts.headers);
  if (!headers['x-request-id']) headers['x-request-id'] = randomUUID();
  if (traceparent) headers.traceparent = traceparent;
  headers['x-forwarded-proto'] = 'http';
  const mirrors = sel.kind === 'matched' ? mirrorsOf(sel.rule.filters, deps.random) : [];
  const retry = rule?.retry ?? null;
  const replay = !facts.grpc && (mirrors.length > 0 || retry === null || retry.attempts > 0);
  const body = await readBody(ex.req, replay);
  const path = ex.rewrittenPath ?? facts.path;
  const authority = ex.rewrittenHost ?? facts.host;
  // A streamed body (too big to buffer) cannot be copied: such requests are not mirrored.
  for (const m of body.stream === undefined ? mirrors : []) {
    sendMirror(deps, view, m, { method: facts.method, path, authority, headers, body: body.buffer, grpc: facts.grpc, port: backend.port });
  }
  const requestMs = rule?.timeouts?.requestMs ?? 0;
  const up = await callUpstream(ex, deps, {
    service: backend.service,
    port: backend.port,
    method: facts.method,
    path,
    authority,
    headers,
    body: body.buffer ?? body.stream,
    version: upstreamVersion(view, backend, facts.grpc),
    retry,
    perTryTimeoutMs: rule?.timeouts?.backendRequestMs ?? 0,
    deadline: requestMs > 0 ? ex.startHr + requestMs : Infinity,
  });
  ex.requestBytes = body.bytes();
  if (!up) return;
  await respond(ex, up);
  ex.requestBytes = body.bytes();
}
