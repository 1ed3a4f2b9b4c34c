/**
 * One request's journey through the waypoint: what each stage decided (service, route, policy,
 * endpoint, attempts) and the response, gathered for telemetry. Stages that end the request early
 * answer through reply(), which also records why (error code, Envoy-style response flag).
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { DownstreamRequest, DownstreamResponse } from '../listener/http-front';
import type { DownstreamContext } from '../listener/downstream-context';
import type { Service, ServiceEndpoint, WaypointView, Workload } from '../model/waypoint-view';
import type { WaypointErrorCode } from '../errors';
import type { RequestFacts } from './request-facts';
import type { WorkloadLike } from '../../common/telemetry/workload-labels';
import type { Span } from '../telemetry/tracing';

export class Exchange {
  readonly startedAt = Date.now();
  readonly startHr = performance.now();
  service: Service | undefined;
  servicePort = 0;
  /** The client's workload (known to this waypoint, or described by the tunnel's baggage). */
  sourceWorkload: Workload | WorkloadLike | undefined;
  routeName = '';
  /** Envoy response flags ("-" when none), e.g. UH, UF, URX, UO, UT, DI, FI, RL, NR, UAEX. */
  flags: string[] = [];
  error: { code: WaypointErrorCode; message: string } | undefined;
  policy: string | undefined;
  endpoint: ServiceEndpoint | undefined;
  attempts = 0;
  status = 0;
  grpcStatus: number | undefined;
  requestBytes = 0;
  responseBytes = 0;
  span: Span | undefined;
  /** Extra response headers decided before the upstream answered (cookies, filters). */
  readonly responseHeaders: Record<string, string | string[]> = {};
  responseHeaderFilters: Array<(h: Record<string, string | string[] | undefined>) => void> = [];
  done = false;
  private gone: AbortController | undefined;

  /** Aborted when the client goes away (made on first use: most requests never wait for anything). */
  get clientGone(): AbortSignal {
    this.gone ??= new AbortController();
    if (this.done) this.gone.abort();
    return this.gone.signal;
  }

  /** The client went away: anything still waiting for this request stops. */
  markGone(): void {
    this.done = true;
    this.gone?.abort();
  }
  /** The path to send upstream when a stage changed it (URLRewrite, a JWT query param removed). */
  rewrittenPath: string | undefined;
  /** The Host to send upstream when URLRewrite changed it. */
  rewrittenHost: string | undefined;

  constructor(
    readonly req: DownstreamRequest,
    readonly res: DownstreamResponse,
    readonly ctx: DownstreamContext,
    readonly facts: RequestFacts,
    readonly view: WaypointView,
  ) {}

  get grpc(): boolean {
    return this.facts.grpc;
  }

  flag(f: string): void {
    if (!this.flags.includes(f)) this.flags.push(f);
  }

  /**
   * Answers the request from the waypoint itself. gRPC clients get the HTTP status mapped into
   * grpc-status (200 + trailers-only, as gRPC requires) so their libraries report it correctly.
   */
  reply(status: number, body: string, opts: { flag?: string; code?: WaypointErrorCode; headers?: IncomingHttpHeaders; grpcStatus?: number } = {}): void {
    if (opts.flag) this.flag(opts.flag);
    if (opts.code) this.error = { code: opts.code, message: body.trim() };
    if (this.res.headersSent || this.done) {
      this.res.destroy();
      return;
    }
    const headers: Record<string, string | string[]> = { ...this.responseHeaders };
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = v as string;
    if (this.grpc) {
      this.grpcStatus = opts.grpcStatus ?? grpcStatusForHttp(status);
      this.status = status;
      headers['content-type'] = 'application/grpc';
      headers['grpc-status'] = String(this.grpcStatus);
      headers['grpc-message'] = grpcMessage(body.trim().slice(0, 1024));
      // Trailers-only: headers set without writeHead, so HTTP/2 sends them in one HEADERS frame
      // with END_STREAM (after writeHead, grpc-js would see headers, then an empty DATA frame,
      // and no status).
      const res = this.res as ServerResponse;
      res.statusCode = 200;
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      res.end();
      return;
    }
    this.status = status;
    headers['content-type'] = headers['content-type'] ?? 'text/plain; charset=utf-8';
    headers['content-length'] = String(Buffer.byteLength(body));
    this.responseBytes += Buffer.byteLength(body);
    (this.res as ServerResponse).writeHead(status, headers);
    (this.res as ServerResponse).end(this.facts.method === 'HEAD' ? undefined : body);
  }
}

/**
 * grpc-message's percent-encoding (gRPC PROTOCOL-HTTP2.md): only '%' and bytes outside 0x20-0x7E
 * are encoded; clients decode no more than that, so encodeURIComponent's ':' -> %3A would show.
 */
export function grpcMessage(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

/** gRPC's HTTP-to-status mapping (grpc/doc/http-grpc-status-mapping.md). */
export function grpcStatusForHttp(status: number): number {
  switch (status) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}
