/**
 * One pooled HBONE connection: its lifecycle (connecting -> ready -> draining -> closed), how many
 * streams it carries (reservations count, so concurrent opens during the handshake share it and
 * still respect the stream limit), and its idle timer. The pool decides which connection a tunnel
 * uses; this class only keeps the books.
 */
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { Diagnostics } from '../diagnostics';
import type { SpiffeId } from '../identity/spiffe';
import type { Logger } from '../log';
import { requestTunnel } from './client';
import type { HboneConnection } from './connect';
import { HboneError, HboneErrorCodes } from './errors';
import type { TunnelHeaders } from './headers';

export type ConnectionState = 'connecting' | 'ready' | 'draining' | 'closed';

export interface ConnectionDescription {
  readonly scope: string;
  readonly source: string;
  readonly expectedIdentity: readonly string[];
  /** address:port */
  readonly destination: string;
}

export interface ConnectionHooks {
  /** Once, when the connection stops taking new streams: the pool stops offering it. */
  retired(c: PooledConnection): void;
  /** Once, when the connection is gone (closed, or its set-up failed). */
  gone(c: PooledConnection): void;
}

export interface ConnectionLimits {
  readonly maxStreams: number;
  readonly idleTimeoutMs: number;
}

export class PooledConnection {
  private stateValue: ConnectionState = 'connecting';
  /** Reserved + open streams. */
  private streamCount = 0;
  /** Streams opened over the connection's life. */
  private streamsOpened = 0;
  readonly ready: Promise<void>;
  readonly createdAt = Date.now();
  private conn: HboneConnection | undefined;
  private idleSince: number | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private isGone = false;

  constructor(
    readonly id: number,
    readonly description: ConnectionDescription,
    private readonly limits: ConnectionLimits,
    connect: (signal: AbortSignal) => Promise<HboneConnection>,
    private readonly hooks: ConnectionHooks,
    private readonly log: Logger,
  ) {
    this.ready = connect(this.abort.signal).then(
      (conn) => this.onReady(conn),
      (err: unknown) => {
        this.retire('closed');
        this.markGone();
        throw err;
      },
    );
    // Waiters see the rejection; this keeps it from being reported as unhandled when none waits.
    this.ready.catch(() => undefined);
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get streams(): number {
    return this.streamCount;
  }

  get peer(): SpiffeId | undefined {
    return this.conn?.peer;
  }

  get session(): ClientHttp2Session | undefined {
    return this.conn?.session;
  }

  /** The effective stream limit: ours, or the server's SETTINGS_MAX_CONCURRENT_STREAMS if lower. */
  get limit(): number {
    const remote = this.conn?.session.remoteSettings.maxConcurrentStreams;
    return remote === undefined ? this.limits.maxStreams : Math.min(this.limits.maxStreams, remote);
  }

  get idleMs(): number | undefined {
    return this.idleSince === undefined ? undefined : Date.now() - this.idleSince;
  }

  /** Whether a new tunnel may be put on this connection now. */
  hasCapacity(now = Date.now()): boolean {
    if (this.stateValue === 'connecting') return this.streamCount < this.limits.maxStreams;
    if (this.stateValue !== 'ready' || this.conn === undefined) return false;
    const { session, notAfter } = this.conn;
    if (session.closed || session.destroyed) return false;
    if (now >= notAfter.getTime()) {
      // A certificate on either end expired: what runs may finish, nothing new starts here.
      this.drain();
      return false;
    }
    return this.streamCount < this.limit;
  }

  /** Holds a stream slot (before the handshake is done, or before the stream exists). */
  reserve(): void {
    this.streamCount++;
    this.idleSince = undefined;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** Gives a slot back; the last one out of a draining connection closes it. */
  release(): void {
    this.streamCount--;
    if (this.streamCount > 0) return;
    if (this.stateValue === 'draining') this.close();
    else if (this.stateValue === 'ready') this.armIdleTimer();
  }

  /** Opens a tunnel on the reservation the caller holds; the reservation ends with the stream. */
  async openStream(authority: string, headers: TunnelHeaders | undefined): Promise<ClientHttp2Stream> {
    const session = this.session;
    if (session === undefined) throw new HboneError(HboneErrorCodes.STREAM, 'internal: openStream() before the connection was ready');
    let created = false;
    try {
      return await requestTunnel(session, authority, headers, this.description.destination, (stream) => {
        created = true;
        this.streamsOpened++;
        stream.once('close', () => this.release());
      });
    } catch (err) {
      if (!created) this.release();
      throw err;
    }
  }

  /** Takes no new streams; closes once the last one ends. */
  drain(): void {
    if (this.stateValue !== 'ready') return;
    this.retire('draining');
    if (this.streamCount === 0) this.close();
  }

  /** GOAWAY now; open streams finish on their own. */
  close(): void {
    this.retire('closed');
    const session = this.conn?.session;
    if (session !== undefined && !session.closed) session.close();
  }

  /** Ends everything now, including a handshake in progress. */
  destroy(): void {
    this.retire('closed');
    this.abort.abort();
    this.conn?.session.destroy();
  }

  private onReady(conn: HboneConnection): void {
    this.conn = conn;
    const { session } = conn;
    const readyAt = Date.now();
    const id = `hbone-out-${this.id}`;
    const peer = this.description.destination;
    let lastError: Error | undefined;
    session.on('error', (err) => (lastError = err));
    Diagnostics.tunnelOpen.publishWith(() => ({
      id,
      direction: 'outbound',
      peer,
      localIdentity: this.description.source,
      peerIdentity: conn.peer.uri,
      startTime: readyAt,
    }));
    session.once('close', () => {
      this.retire('closed');
      this.markGone();
      Diagnostics.tunnelClose.publishWith(() => ({
        id,
        direction: 'outbound',
        peer,
        durationMs: Date.now() - readyAt,
        streams: this.streamsOpened,
        error: lastError?.message,
      }));
    });
    if (this.stateValue === 'closed') {
      session.destroy();
      return;
    }
    this.stateValue = 'ready';
    // GOAWAY: the server drains or refuses us; streams it accepted go on, nothing new goes here.
    session.on('goaway', (code: number) => {
      this.log.debug({ id: this.id, code, destination: this.description.destination }, 'HBONE connection received GOAWAY');
      this.retire('draining');
    });
    if (this.streamCount === 0) this.armIdleTimer();
  }

  private armIdleTimer(): void {
    this.idleSince = Date.now();
    this.idleTimer = setTimeout(() => {
      if (this.streamCount !== 0) return;
      this.log.debug({ id: this.id, destination: this.description.destination }, 'closing idle HBONE connection');
      this.close();
    }, this.limits.idleTimeoutMs);
    // An idle pool must not keep the process alive.
    this.idleTimer.unref();
  }

  private retire(to: 'draining' | 'closed'): void {
    const from = this.stateValue;
    if (from === 'closed' || from === to) return;
    this.stateValue = to;
    if (to === 'closed' && this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    if (from === 'connecting' || from === 'ready') this.hooks.retired(this);
  }

  private markGone(): void {
    if (this.isGone) return;
    this.isGone = true;
    this.hooks.gone(this);
  }
}
