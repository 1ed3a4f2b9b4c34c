/**
 * HBONE client pool: tunnels share HTTP/2 connections per (scope, source identity, expected
 * destination identity, destination address:port), as ztunnel's pool does. A key gets another
 * connection only when all of its connections are at their stream limit; a fresh key's
 * concurrent opens share one handshake; connections idle for idleTimeoutMs are closed; one that
 * receives GOAWAY or fails leaves the pool while its open streams finish.
 */
import type { ClientHttp2Stream } from 'node:http2';
import type { SpiffeId } from '../identity/spiffe';
import type { WorkloadCertificate } from '../identity/workload-certificate';
import { Logger, silentLogger } from '../log';
import { Ports } from '../ports';
import { ExpectedIdentity, expectedIdentities } from '../tls/peer-identity';
import { parseAuthority } from './authority';
import { connectHbone, defaultDial, DialFn } from './connect';
import { HboneError, HboneErrorCodes } from './errors';
import type { TunnelHeaders } from './headers';
import { ConnectionState, PooledConnection } from './pool-connection';
import { HBONE_DEFAULTS, intOption, windowOption } from './settings';

export interface HbonePoolOptions {
  /** Streams per connection before another is opened; 100 by default. */
  readonly maxStreamsPerConnection?: number;
  /** A connection without streams for this long is closed; 30 s by default. */
  readonly idleTimeoutMs?: number;
  /** TCP + TLS + HTTP/2 set-up budget; 5 s by default. */
  readonly connectTimeoutMs?: number;
  /** Per-stream receive window; 4 MiB by default. */
  readonly streamWindowBytes?: number;
  /** Per-connection receive window; 16 MiB by default. */
  readonly connectionWindowBytes?: number;
  readonly logger?: Logger;
}

export interface HboneTarget {
  /** Keeps pools of different callers apart (e.g. the source pod's UID). Part of the pool key. */
  readonly scope: string;
  /** The source workload's certificate, presented as the client certificate. */
  readonly source: WorkloadCertificate;
  /** The HBONE peer's IP: the destination pod, its node, or a waypoint. */
  readonly destinationAddress: string;
  /** 15008 by default. */
  readonly destinationPort?: number;
  /** The SPIFFE URI(s) the peer must present. */
  readonly expectedIdentity: ExpectedIdentity;
  /** :authority, `ip:port` of the final destination (or `vip:port` to a waypoint). */
  readonly authority: string;
  readonly headers?: TunnelHeaders;
  /** Connected TCP socket factory; net.connect by default. */
  readonly dial?: DialFn;
}

export interface HboneTunnel {
  /** The tunnel: a Duplex to relay() the workload's connection with. */
  readonly stream: ClientHttp2Stream;
  /** The identity the server proved in the handshake. */
  readonly peerIdentity: SpiffeId;
  /** False when this tunnel's open started the connection's handshake. */
  readonly reusedConnection: boolean;
  readonly connectionId: number;
}

export interface HboneConnectionStats {
  readonly id: number;
  readonly scope: string;
  readonly source: string;
  readonly expectedIdentity: readonly string[];
  readonly destination: string;
  readonly peer?: string;
  readonly state: ConnectionState;
  readonly streams: number;
  readonly maxStreams: number;
  readonly ageMs: number;
  readonly idleMs?: number;
}

export interface HbonePoolStats {
  readonly connections: readonly HboneConnectionStats[];
}

export class HbonePool {
  private readonly maxStreams: number;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly streamWindowBytes: number;
  private readonly connectionWindowBytes: number;
  private readonly log: Logger;
  /** Connections that may take new streams, per key. */
  private readonly offered = new Map<string, PooledConnection[]>();
  /** Every connection not yet gone, for stats and close(). */
  private readonly all = new Set<PooledConnection>();
  private nextId = 1;
  private closed = false;

  constructor(opts: HbonePoolOptions = {}) {
    this.maxStreams = intOption('maxStreamsPerConnection', opts.maxStreamsPerConnection, HBONE_DEFAULTS.maxStreamsPerConnection, 1);
    this.idleTimeoutMs = intOption('idleTimeoutMs', opts.idleTimeoutMs, HBONE_DEFAULTS.idleTimeoutMs, 1);
    this.connectTimeoutMs = intOption('connectTimeoutMs', opts.connectTimeoutMs, HBONE_DEFAULTS.connectTimeoutMs, 1);
    this.streamWindowBytes = windowOption('streamWindowBytes', opts.streamWindowBytes, HBONE_DEFAULTS.streamWindowBytes);
    this.connectionWindowBytes = windowOption('connectionWindowBytes', opts.connectionWindowBytes, HBONE_DEFAULTS.connectionWindowBytes);
    this.log = (opts.logger ?? silentLogger).child({ component: 'hbone-pool' });
  }

  /**
   * Opens a tunnel to `target`, resolving after the server's 200. Rejects with HboneError
   * (REJECTED carries status and reason), or TlsError when the server's identity is not expected.
   */
  async open(target: HboneTarget): Promise<HboneTunnel> {
    if (this.closed) throw new HboneError(HboneErrorCodes.CLOSED, 'the HBONE pool is closed');
    const expected = expectedIdentities(target.expectedIdentity);
    parseAuthority(target.authority);
    const port = target.destinationPort ?? Ports.hbone;
    const key = JSON.stringify([target.scope, target.source.identity.uri, [...expected].sort(), target.destinationAddress, port]);

    for (let attempt = 1; ; attempt++) {
      const { conn, reused } = this.acquire(key, target, expected, port);
      await conn.ready;
      try {
        const stream = await conn.openStream(target.authority, target.headers);
        // ready resolved, so the peer is known.
        return { stream, peerIdentity: conn.peer as SpiffeId, reusedConnection: reused, connectionId: conn.id };
      } catch (err) {
        // Refused before the server processed it (GOAWAY race): once more, on another connection.
        if (attempt === 1 && reused && err instanceof HboneError && err.retryable) {
          conn.drain();
          continue;
        }
        throw err;
      }
    }
  }

  stats(): HbonePoolStats {
    const connections = [...this.all].map((c) => ({
      id: c.id,
      ...c.description,
      peer: c.peer?.uri,
      state: c.state,
      streams: c.streams,
      maxStreams: c.limit,
      ageMs: Date.now() - c.createdAt,
      idleMs: c.idleMs,
    }));
    return { connections };
  }

  /** Closes every connection now (open tunnels are reset) and refuses further opens; idempotent. */
  close(): void {
    this.closed = true;
    for (const c of this.all) c.destroy();
    this.offered.clear();
  }

  /** A slot on a connection of `key` with room, or on a new one. */
  private acquire(key: string, target: HboneTarget, expected: readonly string[], port: number): { conn: PooledConnection; reused: boolean } {
    const list = this.offered.get(key) ?? [];
    const now = Date.now();
    // The oldest with room first: traffic packs onto few connections and the rest can idle out.
    const existing = list.find((c) => c.hasCapacity(now));
    if (existing !== undefined) {
      existing.reserve();
      return { conn: existing, reused: true };
    }
    const conn = new PooledConnection(
      this.nextId++,
      {
        scope: target.scope,
        source: target.source.identity.uri,
        expectedIdentity: expected,
        destination: `${target.destinationAddress}:${port}`,
      },
      { maxStreams: this.maxStreams, idleTimeoutMs: this.idleTimeoutMs },
      (signal) =>
        connectHbone({
          source: target.source,
          address: target.destinationAddress,
          port,
          expected,
          dial: target.dial ?? defaultDial,
          connectTimeoutMs: this.connectTimeoutMs,
          streamWindowBytes: this.streamWindowBytes,
          connectionWindowBytes: this.connectionWindowBytes,
          signal,
        }),
      {
        retired: (c) => this.unoffer(key, c),
        gone: (c) => {
          this.unoffer(key, c);
          this.all.delete(c);
        },
      },
      this.log,
    );
    // The hooks run asynchronously (after the connect promise settles), never before these lines.
    this.offered.set(key, [...list, conn]);
    this.all.add(conn);
    conn.reserve();
    this.log.debug({ id: conn.id, destination: conn.description.destination }, 'opening HBONE connection');
    return { conn, reused: false };
  }

  private unoffer(key: string, c: PooledConnection): void {
    const list = this.offered.get(key);
    if (list === undefined) return;
    const rest = list.filter((x) => x !== c);
    if (rest.length === 0) this.offered.delete(key);
    else this.offered.set(key, rest);
  }
}
