/**
 * The ConfigService client agents and waypoints use: one Watch stream, every version offered to
 * `accept` (returning = ACK, throwing = NACK with the error's message), the accepted resources kept
 * in a map, reconnects with jittered backoff (each reconnect starts with a full snapshot), and
 * optionally the last accepted snapshot on disk so a restart can serve before the control plane
 * answers.
 */
import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { AmbitError, ErrorCodes } from '../errors';
import { silentLogger, type Logger } from '../log';
import type { ConfigServiceClient } from '../proto/generated/ambit/v1/ConfigService';
import type { ResourceError } from '../proto/generated/ambit/v1/ResourceError';
import type { WatchRequest } from '../proto/generated/ambit/v1/WatchRequest';
import type { WatchResponse__Output } from '../proto/generated/ambit/v1/WatchResponse';
import { Backoff } from './backoff';
import { applyResponse, ResourceMap, resourceMapKey } from './resource-map';
import { encodeSnapshotFile, readSnapshotFile, SnapshotWriter } from './snapshot-file';
import { ConfigClientOptions, ConfigUpdate, subscriptionKey, subscribeMessage, validateOptions } from './options';
import { UpdateStream } from './update-stream';
import { createWatchClient } from './watch-client';

type WatchCall = grpc.ClientDuplexStream<WatchRequest, WatchResponse__Output>;

/** Throw from `accept` to NACK with per-resource detail. */
export class ConfigRejectedError extends AmbitError {
  constructor(
    message: string,
    readonly resourceErrors: readonly ResourceError[] = [],
  ) {
    super(ErrorCodes.INVALID_ARGUMENT, message);
    this.name = 'ConfigRejectedError';
  }
}

export interface ConfigClient {
  on(event: 'update', listener: (update: ConfigUpdate) => void): this;
  on(event: 'rejected', listener: (update: ConfigUpdate, error: unknown) => void): this;
  on(event: 'connected', listener: () => void): this;
  on(event: 'disconnected', listener: (status: grpc.StatusObject) => void): this;
  once(event: 'update', listener: (update: ConfigUpdate) => void): this;
  once(event: 'rejected', listener: (update: ConfigUpdate, error: unknown) => void): this;
  once(event: 'connected', listener: () => void): this;
  once(event: 'disconnected', listener: (status: grpc.StatusObject) => void): this;
}

export class ConfigClient extends EventEmitter {
  private readonly opts: ConfigClientOptions;
  private readonly log: Logger;
  private readonly grpcClient: ConfigServiceClient;
  private readonly backoff: Backoff;
  private readonly writer: SnapshotWriter | undefined;
  private readonly key: string;
  private readonly iterators = new Set<UpdateStream<ConfigUpdate>>();
  private state: ResourceMap = new Map();
  private acceptedVersion: string | undefined;
  private call: WatchCall | undefined;
  private streamLive = false;
  private processing: Promise<void> = Promise.resolve();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  private markReady!: (ready: boolean) => void;
  private readonly readyPromise = new Promise<boolean>((resolve) => (this.markReady = resolve));

  constructor(opts: ConfigClientOptions) {
    super();
    validateOptions(opts);
    this.opts = opts;
    this.key = subscriptionKey(opts.subscription);
    this.log = (opts.logger ?? silentLogger).child({ component: 'config-client', subscription: this.key });
    this.backoff = new Backoff(opts.backoff);
    this.grpcClient = createWatchClient(opts.address, opts.credentials ?? grpc.credentials.createInsecure(), {
      // A big mesh's snapshot is several MiB; grpc-js refuses more than 4 MiB by default.
      'grpc.max_receive_message_length': opts.maxMessageBytes ?? 256 * 1024 * 1024,
      // A connection window of 64 KiB halves snapshot throughput (measured: 100 agents fetching
      // 3 MB each took 2.2 s with it, 1.1 s with 16 MiB).
      'grpc-node.flow_control_window': 16 * 1024 * 1024,
      // The channel's own reconnect backoff (default up to 120 s) would outlast ours.
      'grpc.initial_reconnect_backoff_ms': this.backoff.initialMs,
      'grpc.max_reconnect_backoff_ms': this.backoff.maxMs,
      // Notice a control plane that vanished without closing the connection.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      ...opts.channelOptions,
    });
    this.writer =
      opts.cachePath === undefined
        ? undefined
        : new SnapshotWriter(opts.cachePath, (err) => this.log.warn({ err, cachePath: opts.cachePath }, 'cannot save config cache'));
  }

  /** The accepted resources, keyed "<TYPE>:<name>". */
  get resources(): ResourceMap {
    return this.state;
  }

  /** The version of `resources`; undefined before anything was accepted. */
  get version(): string | undefined {
    return this.acceptedVersion;
  }

  /** True while a Watch stream is delivering. */
  get connected(): boolean {
    return this.streamLive;
  }

  /** Loads the cache (offering it to `accept`), then connects. Idempotent. */
  start(): Promise<void> {
    this.started ??= (async () => {
      if (this.opts.cachePath !== undefined) await this.loadCache(this.opts.cachePath);
      if (!this.closed) this.connect();
    })();
    return this.started;
  }

  /** Resolves true once some config was accepted (cache or server), false if closed first. */
  ready(): Promise<boolean> {
    return this.readyPromise;
  }

  /** Accepted updates from now on, until close(). */
  updates(): AsyncIterableIterator<ConfigUpdate> {
    const s = new UpdateStream<ConfigUpdate>((it) => this.iterators.delete(it));
    if (this.closed) s.end();
    else this.iterators.add(s);
    return s;
  }

  /** Waits until every accepted snapshot has been written to the cache file. */
  flushCache(): Promise<void> {
    return this.writer?.flush() ?? Promise.resolve();
  }

  /** Ends the stream, stops reconnecting, finishes pending cache writes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      clearTimeout(this.reconnectTimer);
      const call = this.call;
      this.call = undefined;
      this.streamLive = false;
      call?.cancel();
      await this.processing;
      await this.flushCache();
      this.grpcClient.close();
      for (const it of this.iterators) it.end();
      this.iterators.clear();
      this.markReady(false);
    })();
    return this.closing;
  }

  private async loadCache(cachePath: string): Promise<void> {
    let cached;
    try {
      cached = await readSnapshotFile(cachePath);
    } catch (err) {
      this.log.warn({ err, cachePath }, 'ignoring unusable config cache');
      return;
    }
    if (cached === undefined) return;
    if (cached.subscription !== this.key) {
      this.log.info({ cachePath, cached: cached.subscription }, 'config cache belongs to another subscription; ignoring it');
      return;
    }
    const resources = new Map(cached.resources.map((r) => [resourceMapKey(r.key!), r]));
    const update: ConfigUpdate = {
      source: 'cache',
      version: cached.version,
      snapshot: true,
      added: cached.resources,
      updated: [],
      removed: [],
      resources,
    };
    try {
      await this.opts.accept(update);
    } catch (err) {
      this.log.warn({ err, version: cached.version }, 'cached config rejected; starting without it');
      this.emit('rejected', update, err);
      return;
    }
    this.log.info({ version: cached.version, savedAt: cached.savedAt, resources: resources.size }, 'serving cached config');
    this.commit(update);
  }

  private connect(): void {
    if (this.closed) return;
    const call = this.grpcClient.Watch();
    this.call = call;
    call.on('data', (response: WatchResponse__Output) => {
      // One response at a time: stop reading while `accept` runs, so a slow consumer pushes back
      // on the server (which then coalesces) instead of queueing here.
      call.pause();
      this.processing = this.processing
        .then(() => this.onResponse(call, response))
        // Only a throwing 'update' listener gets here; the stream must go on regardless.
        .catch((err: unknown) => this.log.error({ err }, 'config update listener failed'))
        .finally(() => {
          if (this.call === call) call.resume();
        });
    });
    // 'status' comes for every ending (OK or not); 'error' repeats non-OK ones and must have a
    // listener so it is not thrown.
    call.on('status', (status: grpc.StatusObject) => this.onStreamEnd(call, status));
    call.on('error', () => {});
    call.write({ subscribe: subscribeMessage(this.opts.subscription, this.acceptedVersion) });
  }

  private async onResponse(call: WatchCall, response: WatchResponse__Output): Promise<void> {
    if (this.call !== call || this.closed) return;
    if (!this.streamLive) {
      this.streamLive = true;
      this.log.info({ address: this.opts.address }, 'config stream connected');
      this.emit('connected');
    }
    if (response.snapshot) this.backoff.reset();
    let update: ConfigUpdate | undefined;
    try {
      update = { source: 'server', ...response, resources: applyResponse(this.state, response) };
      await this.opts.accept(update);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const errors = err instanceof ConfigRejectedError ? [...err.resourceErrors] : [];
      this.log.warn({ err, version: response.version }, 'config version rejected (NACK); keeping the previous config');
      if (this.call === call) call.write({ nack: { version: response.version, message, errors } });
      if (update !== undefined) this.emit('rejected', update, err);
      return;
    }
    if (this.closed) return;
    if (this.call === call) call.write({ ack: { version: response.version } });
    this.commit(update);
  }

  private commit(update: ConfigUpdate): void {
    this.state = update.resources;
    this.acceptedVersion = update.version;
    if (update.source === 'server' && this.writer !== undefined) {
      const state = this.state;
      const version = update.version;
      this.writer.save(() => encodeSnapshotFile({ subscription: this.key, version }, state.values()));
    }
    this.markReady(true);
    this.emit('update', update);
    for (const it of this.iterators) it.push(update);
  }

  private onStreamEnd(call: WatchCall, status: grpc.StatusObject): void {
    if (this.call !== call) return;
    this.call = undefined;
    const wasLive = this.streamLive;
    this.streamLive = false;
    if (this.closed) return;
    const delay = this.backoff.next();
    const fields = { code: grpc.status[status.code], details: status.details, retryInMs: delay };
    if (wasLive) this.log.warn(fields, 'config stream lost; reconnecting');
    else this.log.debug(fields, 'config stream not established; retrying');
    this.emit('disconnected', status);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }
}
