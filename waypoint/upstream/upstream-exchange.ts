/**
 * One request/response exchange with one endpoint: HTTP/1.1 over a keep-alive pool of tunnels
 * (or sockets), or HTTP/2 multiplexed on one tunnel per endpoint (gRPC, h2c, http2 ports). The
 * response is handed back as soon as its head arrives so the caller can decide on a retry before
 * any body byte reaches the client. Failures are classified (connect failure, reset, timeout) for
 * retries and outlier detection.
 */
import http, { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import http2, { ClientHttp2Session } from 'node:http2';
import type { Readable } from 'node:stream';
import type { ServiceEndpoint } from '../model/waypoint-view';
import { UpstreamConnectError, UpstreamConnector } from './connector';
import { endpointKey } from './endpoint-key';
import { withoutBatchedWrites } from '../listener/http1-over-tunnel';

export type UpstreamFailureKind = 'connect-failure' | 'reset' | 'timeout';

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamFailure';
  }
}

export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly headers: OutgoingHttpHeaders;
  /** A buffered body (replayable), a stream (one attempt only), or none. */
  readonly body: Buffer | Readable | undefined;
  /** Per-try deadline; 0 = none. */
  readonly timeoutMs: number;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable;
  /** Trailers once the body ended (gRPC status lives there). */
  readonly trailers: () => IncomingHttpHeaders | undefined;
  /** Drop the exchange (a retry discards this response). */
  readonly abort: () => void;
}

/** Methods Node's socket-based code calls on a connection that a tunnel stream does not have. */
function asSocketLike(stream: NodeJS.ReadWriteStream & object): void {
  const s = stream as unknown as Record<string, unknown>;
  for (const m of ['setKeepAlive', 'setNoDelay', 'ref', 'unref']) if (typeof s[m] !== 'function') s[m] = () => stream;
}

class TunnelAgent extends http.Agent {
  constructor(
    private readonly ep: ServiceEndpoint,
    private readonly connector: UpstreamConnector,
    idleMs: number,
  ) {
    super({ keepAlive: true, maxSockets: 1024, maxFreeSockets: 256, timeout: idleMs, scheduling: 'lifo' });
  }

  override createConnection(_options: unknown, cb: (err: Error | null, socket?: unknown) => void): undefined {
    this.connector.connect(this.ep).then(
      (s) => {
        asSocketLike(s);
        // An HTTP/1 client connection closes when the server ends it, as net.Socket does without
        // allowHalfOpen. A tunnel (an Http2Stream) and the connector's plain socket are half-open,
        // and http.Agent watches an idle pooled connection only for 'close': one whose endpoint
        // sent its END_STREAM / FIN (the app closed it or exited) would sit in the pool until the
        // idle timeout, be handed the next request, and keep the destination agent's half of the
        // tunnel open meanwhile.
        s.allowHalfOpen = false;
        cb(null, withoutBatchedWrites(s));
      },
      (e: Error) => cb(e),
    );
    return undefined;
  }
}

export class UpstreamExchanges {
  private readonly agents = new Map<string, TunnelAgent>();
  private readonly sessions = new Map<string, Promise<ClientHttp2Session>>();

  constructor(
    private readonly connector: UpstreamConnector,
    private readonly idleMs = 30_000,
  ) {}

  send(ep: ServiceEndpoint, version: 'http1' | 'h2', req: UpstreamRequest): Promise<UpstreamResponse> {
    return version === 'h2' ? this.sendH2(ep, req) : this.sendH1(ep, req);
  }

  /** Forget pooled connections to endpoints no longer in `keep` (config changed). */
  retain(keep: ReadonlySet<string>): void {
    for (const [k, a] of this.agents) if (!keep.has(k)) (a.destroy(), this.agents.delete(k));
    for (const [k, s] of this.sessions) {
      if (keep.has(k)) continue;
      this.sessions.delete(k);
      void s.then((x) => x.close(), () => undefined);
    }
  }

  close(): void {
    this.retain(new Set());
  }

  private sendH1(ep: ServiceEndpoint, req: UpstreamRequest): Promise<UpstreamResponse> {
    const key = endpointKey(ep);
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new TunnelAgent(ep, this.connector, this.idleMs);
      this.agents.set(key, agent);
    }
    return new Promise((resolve, reject) => {
      const out = http.request({ agent, method: req.method, path: req.path, headers: { ...req.headers, host: req.authority }, setHost: false });
      let settled = false;
      const timer = req.timeoutMs > 0 ? setTimeout(() => fail(new UpstreamFailure('timeout', `no response within ${req.timeoutMs} ms`)), req.timeoutMs) : undefined;
      const fail = (e: Error): void => {
        clearTimeout(timer);
        out.destroy();
        if (settled) return;
        settled = true;
        reject(e instanceof UpstreamFailure ? e : classify(e));
      };
      out.once('error', fail);
      out.once('response', (res) => {
        clearTimeout(timer);
        settled = true;
        resolve({ status: res.statusCode ?? 502, headers: res.headers, body: res, trailers: () => res.trailers, abort: () => out.destroy() });
      });
      writeBody(out, req.body);
    });
  }

  private async session(ep: ServiceEndpoint): Promise<ClientHttp2Session> {
    const key = endpointKey(ep);
    let p = this.sessions.get(key);
    if (!p) {
      p = this.connector.connect(ep).then((tunnel) => {
        const s = http2.connect(`http://${ep.address}:${ep.port}`, { createConnection: () => tunnel as never, settings: { initialWindowSize: 4 * 1024 * 1024 } });
        const forget = (): void => {
          if (this.sessions.get(key) === p) this.sessions.delete(key);
        };
        s.once('close', forget);
        s.once('goaway', forget);
        s.once('error', forget);
        s.setTimeout(this.idleMs, () => s.close());
        return s;
      });
      this.sessions.set(key, p);
      p.catch(() => {
        if (this.sessions.get(key) === p) this.sessions.delete(key);
      });
    }
    return p;
  }

  private async sendH2(ep: ServiceEndpoint, req: UpstreamRequest): Promise<UpstreamResponse> {
    let session: ClientHttp2Session;
    try {
      session = await this.session(ep);
    } catch (e) {
      throw classify(e as Error);
    }
    return new Promise((resolve, reject) => {
      const headers: OutgoingHttpHeaders = { ...req.headers, ':method': req.method, ':path': req.path, ':authority': req.authority };
      delete headers.host;
      const stream = session.request(headers, { endStream: req.body === undefined || (Buffer.isBuffer(req.body) && req.body.length === 0) });
      let settled = false;
      let trailers: IncomingHttpHeaders | undefined;
      stream.once('trailers', (t) => (trailers = t));
      const timer = req.timeoutMs > 0 ? setTimeout(() => fail(new UpstreamFailure('timeout', `no response within ${req.timeoutMs} ms`)), req.timeoutMs) : undefined;
      const fail = (e: Error): void => {
        clearTimeout(timer);
        if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
        if (settled) return;
        settled = true;
        reject(e instanceof UpstreamFailure ? e : classify(e));
      };
      stream.once('error', fail);
      stream.once('close', () => {
        if (!settled) fail(new UpstreamFailure('reset', `the upstream stream closed before a response (code ${stream.rstCode})`));
      });
      stream.once('response', (h) => {
        clearTimeout(timer);
        settled = true;
        const status = Number(h[':status']) || 502;
        const clean: IncomingHttpHeaders = {};
        for (const [k, v] of Object.entries(h)) if (!k.startsWith(':')) clean[k] = v as string;
        resolve({ status, headers: clean, body: stream, trailers: () => trailers, abort: () => stream.close(http2.constants.NGHTTP2_CANCEL) });
      });
      if (req.body !== undefined && !(Buffer.isBuffer(req.body) && req.body.length === 0)) writeBody(stream, req.body);
    });
  }
}


function writeBody(out: NodeJS.WritableStream, body: Buffer | Readable | undefined): void {
  if (body === undefined) out.end();
  else if (Buffer.isBuffer(body)) out.end(body);
  else body.pipe(out);
}

function classify(e: Error): UpstreamFailure {
  if (e instanceof UpstreamFailure) return e;
  if (e instanceof UpstreamConnectError) return new UpstreamFailure('connect-failure', e.message, { cause: e });
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT' || code === 'ENETUNREACH') {
    return new UpstreamFailure('connect-failure', e.message, { cause: e });
  }
  return new UpstreamFailure('reset', `the upstream connection failed: ${e.message}`, { cause: e });
}
