/**
 * The HBONE server: HTTP/2 over mutual TLS 1.3, one per pod (each with that pod's certificate)
 * and per waypoint. The pipeline for each stream reads
 *   TLS (client cert required, chain) -> session (SPIFFE ID, trust domain) -> CONNECT check
 *   -> :authority check -> onTunnel(request)
 * and anything that fails before onTunnel is answered here: 405 for other methods, 400 for a bad
 * CONNECT or authority (server-request.ts). Client identity and per-connection state live in
 * server-session.ts. A bad connection (garbage, plain HTTP/1, no certificate, a rapid-reset
 * flood) is closed on its own; others are not affected. It listens like any net.Server,
 * including on a pre-bound fd made inside a pod's network namespace: listen({ fd }).
 */
import http2, { Http2SecureServer, IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import net, { AddressInfo, ListenOptions, Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { WorkloadCertificate } from '../identity/workload-certificate';
import { Logger, silentLogger } from '../log';
import { workloadSecureContextOptions, workloadServerTlsOptions } from '../tls/options';
import { HboneError, HboneErrorCodes } from './errors';
import { admitRequest, HboneRequest, respondWithError } from './server-request';
import {
  addressesOf,
  judgeClient,
  newSessionState,
  publishSessionLifecycle,
  SessionState,
  verdictOf,
} from './server-session';
import { HBONE_DEFAULTS, intOption, sessionMemoryMb, windowOption } from './settings';

export interface HboneServerOptions {
  readonly certificate: WorkloadCertificate;
  /** Called once per valid CONNECT; must accept() or reject() it. A throw or rejection answers 500. */
  readonly onTunnel: (request: HboneRequest) => void | Promise<void>;
  /** Trust domains whose clients are served; the certificate's own by default. */
  readonly trustDomains?: readonly string[];
  /** SETTINGS_MAX_CONCURRENT_STREAMS per connection; 100 by default. */
  readonly maxConcurrentStreams?: number;
  /** Per-stream receive window; 4 MiB by default. */
  readonly streamWindowBytes?: number;
  /** Per-connection receive window; 16 MiB by default. */
  readonly connectionWindowBytes?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE; 16 KiB by default. */
  readonly maxHeaderListBytes?: number;
  /** A TCP connection must finish the TLS handshake within this; 10 s by default. */
  readonly handshakeTimeoutMs?: number;
  /** Client resets of unanswered streams tolerated per second and connection; 100 by default. */
  readonly maxResetsPerSecond?: number;
  readonly logger?: Logger;
}

export interface HboneServerStats {
  /** TCP connections, including those still in the TLS handshake. */
  readonly connections: number;
  /** Established HTTP/2 sessions. */
  readonly sessions: number;
  /** Open streams (tunnels and requests being answered). */
  readonly streams: number;
}

const { NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;

export { HboneRequest };

export class HboneServer {
  /** The underlying server; a net.Server, so listen({ fd }) and address() work as usual. */
  readonly server: Http2SecureServer;
  private cert: WorkloadCertificate;
  private readonly log: Logger;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Map<ServerHttp2Session, SessionState>();
  private readonly maxResetsPerSecond: number;
  private readonly connectionWindowBytes: number;
  private readonly extraListeners: Server[] = [];
  private primaryListening = false;
  private draining = false;
  private closed: Promise<void> | undefined;
  private sessionsGone: (() => void) | undefined;

  constructor(private readonly opts: HboneServerOptions) {
    this.cert = opts.certificate;
    this.log = (opts.logger ?? silentLogger).child({ component: 'hbone-server' });
    this.maxResetsPerSecond = intOption('maxResetsPerSecond', opts.maxResetsPerSecond, HBONE_DEFAULTS.maxResetsPerSecond, 1);
    this.connectionWindowBytes = windowOption('connectionWindowBytes', opts.connectionWindowBytes, HBONE_DEFAULTS.connectionWindowBytes);
    this.server = http2.createSecureServer({
      ...workloadServerTlsOptions(this.cert),
      handshakeTimeout: intOption('handshakeTimeoutMs', opts.handshakeTimeoutMs, HBONE_DEFAULTS.handshakeTimeoutMs, 1),
      allowHTTP1: false,
      maxSessionMemory: sessionMemoryMb(this.connectionWindowBytes),
      settings: {
        enablePush: false,
        maxConcurrentStreams: intOption('maxConcurrentStreams', opts.maxConcurrentStreams, HBONE_DEFAULTS.maxStreamsPerConnection, 1),
        initialWindowSize: windowOption('streamWindowBytes', opts.streamWindowBytes, HBONE_DEFAULTS.streamWindowBytes),
        maxHeaderListSize: intOption('maxHeaderListBytes', opts.maxHeaderListBytes, HBONE_DEFAULTS.maxHeaderListBytes, 1024),
      },
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // Garbage, plain HTTP/1, no client certificate (a TLS alert), or one that does not verify:
    // Node destroys that socket alone. In the last case Node finished the handshake and closes
    // without an alert, so authorizationError is the only record of why: worth a warning.
    this.server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      const why = socket.authorizationError;
      if (why) this.log.warn({ remote: socket.remoteAddress, reason: String(why) }, `refusing HBONE client: certificate ${String(why)}`);
      else this.log.debug({ err, remote: socket.remoteAddress }, 'TLS handshake failed');
    });
    // TLS without ALPN h2 (an HTTP/1.1 client): close instead of Node's "403" reply and timer.
    this.server.on('unknownProtocol', (socket: TLSSocket) => {
      this.log.debug({ remote: socket.remoteAddress, alpn: socket.alpnProtocol }, 'closing a connection that did not negotiate h2');
      socket.destroy();
    });
    this.server.prependListener('secureConnection', (socket: TLSSocket) =>
      judgeClient(socket, this.opts.trustDomains ?? [this.cert.identity.trustDomain]),
    );
    this.server.on('session', (session: ServerHttp2Session) => this.onSession(session));
    this.server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.onStream(stream, headers));
  }

  /** The certificate new handshakes present. */
  get certificate(): WorkloadCertificate {
    return this.cert;
  }

  /** Presents `cert` (and trusts its bundle) from the next handshake on; open connections keep theirs. */
  updateCertificate(cert: WorkloadCertificate): void {
    if (cert.identity.uri !== this.cert.identity.uri) {
      throw new HboneError(
        HboneErrorCodes.INVALID_OPTION,
        `certificate update from ${this.cert.identity.uri} to ${cert.identity.uri}: a listener's identity does not change`,
      );
    }
    this.server.setSecureContext(workloadSecureContextOptions(cert));
    this.cert = cert;
    this.log.debug({ identity: cert.identity.uri, notAfter: cert.notAfter }, 'certificate updated');
  }

  /**
   * Starts accepting on `target`: a pre-bound listening fd (number or `{ fd }`, e.g. made inside a
   * pod's network namespace) or ordinary listen options (`{ port: 0, host: '127.0.0.1' }`). May be
   * called more than once (an IPv4 and an IPv6 fd): later listeners hand their connections to the
   * same TLS server.
   */
  listen(target: number | { fd: number } | ListenOptions): Promise<void> {
    if (this.closed !== undefined || this.draining) {
      return Promise.reject(new HboneError(HboneErrorCodes.CLOSED, 'the HBONE server was closed; create a new one'));
    }
    const options = typeof target === 'number' ? { fd: target } : target;
    let listener: Server;
    if (!this.primaryListening) {
      this.primaryListening = true;
      listener = this.server;
    } else {
      // tls.Server starts its handshake on 'connection': emitting it is how a socket is handed over.
      listener = net.createServer((socket) => this.server.emit('connection', socket));
      this.extraListeners.push(listener);
    }
    return new Promise((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(options, () => {
        listener.off('error', reject);
        listener.on('error', (err) => this.log.warn({ err }, 'HBONE listener error'));
        resolve();
      });
    });
  }

  /** The first listener's address. */
  address(): AddressInfo {
    const a = this.server.address();
    if (a === null || typeof a === 'string') {
      throw new HboneError(HboneErrorCodes.INVALID_OPTION, 'the HBONE server is not listening on a TCP address');
    }
    return a;
  }

  stats(): HboneServerStats {
    let streams = 0;
    for (const s of this.sessions.values()) streams += s.streams;
    return { connections: this.sockets.size, sessions: this.sessions.size, streams };
  }

  /**
   * Stops accepting, sends GOAWAY to every session so clients open new tunnels elsewhere, lets
   * open tunnels finish until `deadlineMs`, then closes whatever is left.
   */
  async drain(deadlineMs: number): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    this.draining = true;
    this.stopListening();
    for (const session of this.sessions.keys()) session.close();
    const empty = new Promise<void>((resolve) => {
      this.sessionsGone = resolve;
      this.checkSessionsGone();
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadlineMs));
    });
    await Promise.race([empty, deadline]);
    clearTimeout(timer);
    return this.close();
  }

  /** Closes every connection now and stops listening; idempotent. */
  close(): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    this.draining = true;
    // Each callback runs once that listener's connections are gone (with ERR_SERVER_NOT_RUNNING
    // if it never listened, which is fine too).
    const listeners = [this.server, ...this.extraListeners];
    const gone = listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve())));
    for (const session of this.sessions.keys()) session.destroy();
    for (const socket of this.sockets) socket.destroy();
    this.closed = Promise.all(gone).then(() => undefined);
    return this.closed;
  }

  private stopListening(): void {
    for (const l of [this.server, ...this.extraListeners]) if (l.listening) l.close();
  }

  private checkSessionsGone(): void {
    if (this.sessions.size === 0) this.sessionsGone?.();
  }

  private onSession(session: ServerHttp2Session): void {
    session.on('error', (err) => this.log.debug({ err }, 'HTTP/2 session error'));
    const addresses = addressesOf(session);
    const verdict = verdictOf(session);
    if (verdict?.peer === undefined) {
      // The chain verified but the name is unusable or foreign. Closing the TCP connection before
      // our SETTINGS go out means the client never takes the connection for a working one.
      const reason = verdict?.error?.message ?? 'no client identity';
      this.log.warn({ err: verdict?.error, remote: addresses.remoteAddress }, `refusing HBONE client: ${reason}`);
      if (verdict !== undefined) verdict.socket.destroy();
      else session.destroy();
      return;
    }
    const state = newSessionState(verdict.peer, addresses, this.maxResetsPerSecond);
    this.sessions.set(session, state);
    session.once('close', () => {
      this.sessions.delete(session);
      this.checkSessionsGone();
    });
    publishSessionLifecycle(session, state, this.cert.identity.uri);
    session.setLocalWindowSize(this.connectionWindowBytes);
    if (this.draining) session.close();
  }

  /** GOAWAY ENHANCE_YOUR_CALM, then the connection is closed once that frame had its chance to go out. */
  private calm(session: ServerHttp2Session, state: SessionState): void {
    if (state.calmed || session.destroyed) return;
    state.calmed = true;
    this.log.warn(
      { peer: state.peer.uri, remote: state.addresses.remoteAddress, limit: this.maxResetsPerSecond },
      'closing HBONE connection: too many streams reset before an answer (rapid reset)',
    );
    session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
    setImmediate(() => session.destroy());
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // Stream errors surface through relay() or the handler; this one only keeps them from being uncaught.
    stream.on('error', (err) => this.log.debug({ err }, 'HBONE stream error'));
    const session = stream.session as ServerHttp2Session | undefined;
    const state = session === undefined ? undefined : this.sessions.get(session);
    if (session === undefined || state === undefined) {
      stream.close(NGHTTP2_REFUSED_STREAM);
      return;
    }
    state.streams++;
    state.streamsSeen++;
    stream.once('close', () => {
      state.streams--;
      // Reset by the client before we answered: what a rapid-reset flood is made of.
      if (stream.rstCode !== NGHTTP2_NO_ERROR && !stream.headersSent && !state.calmed && state.resets.hit()) {
        this.calm(session, state);
      }
    });

    const request = admitRequest(stream, headers, state.peer, state.addresses);
    if (request === undefined) return;
    const failed = (err: unknown): void => {
      this.log.error({ err, peer: state.peer.uri, authority: request.authority }, 'HBONE tunnel handler failed');
      if (!request.settled) respondWithError(stream, 500, 'internal error in the tunnel handler');
      else if (!stream.closed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    };
    try {
      const pending = this.opts.onTunnel(request);
      if (pending !== undefined) pending.catch(failed);
    } catch (err) {
      failed(err);
    }
  }
}

export function createHboneServer(opts: HboneServerOptions): HboneServer {
  return new HboneServer(opts);
}
