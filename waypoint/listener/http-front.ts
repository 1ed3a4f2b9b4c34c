/**
 * The waypoint's HTTP servers, fed connections (HBONE tunnel streams or plain sockets) rather than
 * listening themselves: one HTTP/1.1 server and one cleartext HTTP/2 server, both handing every
 * request to the pipeline through Node's compatibility API (one handler for both versions).
 *
 * Protocol safety lives here, at the edge:
 *  - HTTP/1: llhttp in strict mode refuses requests with both Content-Length and
 *    Transfer-Encoding, duplicate Content-Length and other smuggling shapes (RFC 9112 §6.3); the
 *    client gets 400 and the connection is closed. Oversized headers get 431.
 *  - slow clients: headers must arrive within headersTimeoutMs, the whole request within
 *    requestTimeoutMs, idle connections close after idleTimeoutMs.
 *  - HTTP/2: header list size limit, invalid frames and rejected streams end the session with
 *    GOAWAY (nghttp2), and rapid reset (CVE-2023-44487) is counted per session: a client that
 *    cancels more than maxResetsPerSecond unanswered streams gets GOAWAY ENHANCE_YOUR_CALM.
 */
import http, { IncomingMessage, ServerResponse } from 'node:http';
import http2, { Http2ServerRequest, Http2ServerResponse, ServerHttp2Session } from 'node:http2';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { ResetRateLimiter } from '../../common/hbone/reset-limiter';
import type { Logger } from '../../common/log';
import { DownstreamContext, setDownstreamContext } from './downstream-context';
import { withoutBatchedWrites } from './http1-over-tunnel';

export type DownstreamRequest = IncomingMessage | Http2ServerRequest;
export type DownstreamResponse = ServerResponse | Http2ServerResponse;

export interface HttpFrontOptions {
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxResetsPerSecond?: number;
  readonly onRequest: (req: DownstreamRequest, res: DownstreamResponse) => void;
  /** HTTP/1 Upgrade (WebSocket): the handler owns the connection from here. */
  readonly onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  readonly logger: Logger;
}

const { NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_CANCEL } = http2.constants;

export class HttpFront {
  readonly h1: http.Server;
  readonly h2: http2.Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly connections = new Set<Duplex>();
  private draining = false;
  /** The context of the HTTP/2 connection being handed to the server (see accept()). */
  private sessionContext: DownstreamContext | undefined;

  constructor(private readonly opts: HttpFrontOptions) {
    this.h1 = http.createServer({
      maxHeaderSize: opts.maxHeaderBytes,
      headersTimeout: opts.headersTimeoutMs,
      requestTimeout: Math.max(opts.headersTimeoutMs, 300_000),
      keepAliveTimeout: opts.idleTimeoutMs,
      // How often slow clients are looked for (Node's default, 30 s, lets a slowloris linger).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(opts.headersTimeoutMs / 2))),
      insecureHTTPParser: false,
    });
    this.h1.on('request', opts.onRequest);
    this.h1.on('upgrade', opts.onUpgrade);
    this.h1.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.clientError(err, socket));
    this.h1.timeout = opts.idleTimeoutMs;
    // The server never listens itself (it is fed connections), but Node tracks connections — and
    // so enforces headersTimeout/requestTimeout and can close idle ones — only from 'listening'.
    this.h1.emit('listening');

    this.h2 = http2.createServer({
      maxSessionInvalidFrames: 10,
      maxSessionRejectedStreams: 100,
      maxHeaderListPairs: 256,
      settings: { maxHeaderListSize: opts.maxHeaderBytes, maxConcurrentStreams: 1000, initialWindowSize: 4 * 1024 * 1024 },
    });
    this.h2.on('request', opts.onRequest);
    this.h2.on('session', (s: ServerHttp2Session) => this.watchSession(s));
    this.h2.setTimeout(opts.idleTimeoutMs);
  }

  /** Serves `connection` (already sniffed) with the HTTP version it speaks. */
  accept(conn: Duplex, version: 'http1' | 'h2', ctx: DownstreamContext): void {
    // Node's HTTP/2 server reads a TCP socket's handle directly and would miss the sniffed bytes
    // pushed back into the JS stream: give it a JS stream over the socket instead.
    const connection = version === 'h2' ? (conn instanceof net.Socket ? jsStreamOver(conn) : conn) : withoutBatchedWrites(conn);
    setDownstreamContext(connection, ctx);
    this.connections.add(connection);
    connection.once('close', () => this.connections.delete(connection));
    if (this.draining) {
      connection.destroy();
      return;
    }
    if (version === 'h2') {
      // Node wraps a connection that is not a native socket (a tunnel stream, jsStreamOver) in a
      // JSStreamSocket, and the compat layer's req.socket reads from that wrapper: the context goes
      // on it too, from the 'session' event the server emits synchronously for this connection.
      this.sessionContext = ctx;
      try {
        this.h2.emit('connection', connection);
      } finally {
        this.sessionContext = undefined;
      }
    } else {
      this.h1.emit('connection', connection);
    }
    // Sniffing paused the stream; the server's own 'data' listener does not undo an explicit pause.
    connection.resume();
  }

  /** Stop taking requests: GOAWAY to HTTP/2 clients, `connection: close` on HTTP/1 responses. */
  drain(): void {
    this.draining = true;
    for (const s of this.sessions) if (!s.closed) s.close();
    this.h1.closeIdleConnections();
  }

  get openConnections(): number {
    return this.connections.size;
  }

  closeAll(): void {
    for (const s of this.sessions) s.destroy();
    for (const c of this.connections) c.destroy();
    this.h1.closeAllConnections();
    this.h1.close(() => undefined); // stops the connection-checking timer
  }

  private clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    const code = err.code ?? '';
    const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    this.opts.logger.debug({ code, reason: err.message }, 'refused a malformed HTTP/1 request');
    if (socket.writable && code !== 'ECONNRESET') {
      const body = `${http.STATUS_CODES[status]}: ${err.message}\n`;
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    }
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private watchSession(session: ServerHttp2Session): void {
    this.sessions.add(session);
    if (this.sessionContext !== undefined) setDownstreamContext(session.socket, this.sessionContext);
    session.once('close', () => this.sessions.delete(session));
    if (this.draining) session.close();
    const limiter = new ResetRateLimiter(this.opts.maxResetsPerSecond ?? 100);
    session.on('stream', (stream) => {
      stream.once('close', () => {
        // Reset by the client before anything was answered: the shape of a rapid-reset flood.
        if (stream.rstCode === NGHTTP2_CANCEL && !stream.headersSent && limiter.hit() && !session.destroyed) {
          this.opts.logger.warn({ limit: this.opts.maxResetsPerSecond ?? 100 }, 'HTTP/2 rapid reset: closing the session (ENHANCE_YOUR_CALM)');
          session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
          session.destroy();
        }
      });
    });
  }
}

/** A plain JS Duplex relaying a socket (with backpressure both ways). */
function jsStreamOver(sock: net.Socket): Duplex {
  const d = new Duplex({
    read: () => void sock.resume(),
    write: (chunk: Buffer, _enc, cb) => void sock.write(chunk, cb),
    final: (cb) => {
      sock.end();
      cb();
    },
    destroy: (err, cb) => {
      sock.destroy(err ?? undefined);
      cb(err);
    },
  });
  sock.on('data', (chunk: Buffer) => {
    if (!d.push(chunk)) sock.pause();
  });
  sock.once('end', () => d.push(null));
  sock.once('close', () => d.destroy());
  sock.once('error', (e) => d.destroy(e));
  return d;
}
