/**
 * One Watch stream: subscribe, a full snapshot, then per-client deltas, ACK/NACK bookkeeping.
 *
 * At most one response is in flight per client: while grpc-js has not finished writing the last
 * one (the HTTP/2 window of a slow client is full) new changes only grow the client's dirty-id
 * set, and the next response carries all of them at their latest revision. Memory per slow client
 * is thus bounded by the number of resources, never by the number of changes.
 */
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../common/log';
import { concatWatchResponse } from '../../common/proto/codec';
import type { Nack__Output } from '../../common/proto/generated/ambit/v1/Nack';
import type { WatchRequest__Output } from '../../common/proto/generated/ambit/v1/WatchRequest';
import { ControlPlaneError, ControlPlaneErrorCodes, grpcStatusOf } from '../errors';
import type { ControlPlaneMetrics, NackTypeLabel } from '../metrics';
import { RESOURCE_TYPES, ResourceId, ResourceStore, ResourceTypeName } from '../model/resource-store';
import { ClientFilter, createClientFilter } from './client-filter';
import { isEmptyDelta, takeDelta } from './client-delta';
import { KnownResources } from './known-resources';
import { resourceBytes, resourceKeyBytes, SnapshotCache } from './resource-bytes';
import { ClientKind, parseSubscribe, Subscription, subscriptionTarget } from './subscription';
import type { VersionClock } from './versions';
import type { WatchCall } from './watch-definition';

export interface NackInfo {
  readonly version: string;
  readonly message: string;
  readonly errors: readonly { type: string; name: string; message: string }[];
  readonly at: Date;
}

/** One subscribed client, as /debug/clients shows it. */
export interface ClientInfo {
  readonly id: string;
  readonly connection: number;
  readonly kind: ClientKind;
  readonly node?: string;
  readonly waypoint?: string;
  readonly peer: string;
  readonly connectedAt: Date;
  readonly lastSentVersion: string;
  readonly lastAckedVersion: string;
  readonly lastNack?: NackInfo;
  /** Changed ids waiting for the in-flight response to finish (a slow client). */
  readonly pendingChanges: number;
  /** Where the client's /metrics is (Subscribe.metrics_url), for the dashboard. */
  readonly metricsUrl?: string;
  readonly metricsUrlProblem?: string;
}

export interface StreamContext {
  readonly store: ResourceStore;
  readonly clock: VersionClock;
  readonly snapshots: SnapshotCache;
  readonly metrics: ControlPlaneMetrics;
  readonly logger: Logger;
  /** The stream ended (any way); it must get no more changes. */
  readonly onDone: (stream: WatchStream) => void;
}

const protocolError = (message: string): ControlPlaneError =>
  new ControlPlaneError(ControlPlaneErrorCodes.PROTOCOL, message);

function nackTypeLabel(nack: Nack__Output): NackTypeLabel {
  const types = new Set(nack.errors.map((e) => e.key?.type).filter((t) => t !== undefined));
  if (types.size === 0) return 'unknown';
  if (types.size > 1) return 'mixed';
  const [t] = types;
  return (RESOURCE_TYPES as readonly string[]).includes(t as string) ? (t as ResourceTypeName) : 'unknown';
}

export class WatchStream {
  readonly connectedAt = new Date();
  private sub: Subscription | undefined;
  private filter: ClientFilter | undefined;
  private log: Logger;
  /** What the client has: id -> revision last sent. */
  private readonly known = new KnownResources();
  private dirty = new Set<ResourceId>();
  /** performance.now() of the oldest change in `dirty`. */
  private dirtySince: number | undefined;
  private writing = false;
  private needDrain = false;
  private done = false;
  private lastSentCounter = 0;
  private lastSentVersion = '';
  private lastAckedVersion = '';
  private lastNack: NackInfo | undefined;
  /**
   * Per version sent and not yet ACKed: what it changed in `known` (id, revision before, after), so
   * a NACK can put back what the client really still has. `snapshot` marks a full snapshot.
   */
  private readonly unacked = new Map<string, { snapshot: boolean; changes: Array<[ResourceId, number | undefined, number | undefined]> }>();
  /** Ids a NACKed version carried: sent again with the next push, not at once (no NACK loop). */
  private retry = new Set<ResourceId>();

  constructor(
    private readonly call: WatchCall,
    readonly connection: number,
    private readonly ctx: StreamContext,
  ) {
    this.log = ctx.logger.child({ connection, peer: call.getPeer() });
    call.on('data', (msg: WatchRequest__Output) => this.onRequest(msg));
    // The client half-closed: finish our side too (status OK).
    call.on('end', () => this.end('client ended the stream'));
    call.on('cancelled', () => this.teardown('cancelled by the client'));
    call.on('error', (err: Error) => this.teardown(`stream error: ${err.message}`));
    call.on('close', () => this.teardown('stream closed'));
    call.on('drain', () => {
      this.needDrain = false;
      this.pump();
    });
  }

  get subscribed(): boolean {
    return this.sub !== undefined && !this.done;
  }

  info(): ClientInfo | undefined {
    const sub = this.sub;
    if (sub === undefined) return undefined;
    return {
      id: this.clientId(sub),
      connection: this.connection,
      kind: sub.kind,
      ...(sub.kind === 'agent' ? { node: sub.node } : { waypoint: subscriptionTarget(sub) }),
      peer: this.call.getPeer(),
      connectedAt: this.connectedAt,
      lastSentVersion: this.lastSentVersion,
      lastAckedVersion: this.lastAckedVersion,
      ...(this.lastNack ? { lastNack: this.lastNack } : {}),
      pendingChanges: this.dirty.size,
      ...(sub.metricsUrl !== undefined ? { metricsUrl: sub.metricsUrl } : {}),
      ...(sub.metricsUrlProblem !== undefined ? { metricsUrlProblem: sub.metricsUrlProblem } : {}),
    };
  }

  /** A pushed store batch: `changed` ids, the oldest changed at `changedAt` (performance.now()). */
  enqueue(changed: ReadonlySet<ResourceId>, changedAt: number): void {
    if (this.done || this.filter === undefined) return;
    const view = this.filter.refresh(changed);
    for (const id of changed) this.dirty.add(id);
    for (const id of this.retry) this.dirty.add(id);
    this.retry.clear();
    if (view !== null) {
      // The waypoint's scope moved: anything it has may leave, any candidate may enter.
      for (const id of this.known.keys()) this.dirty.add(id);
      for (const id of view.candidates) this.dirty.add(id);
    }
    if (this.dirtySince === undefined || changedAt < this.dirtySince) this.dirtySince = changedAt;
    this.pump();
  }

  /** Ends the stream with status OK (server shutdown, or the client half-closed). */
  end(reason: string): void {
    const wasDone = this.done;
    this.teardown(reason);
    if (!wasDone) this.call.end();
  }

  private clientId(sub: Subscription): string {
    return sub.clientId || `${sub.kind}/${subscriptionTarget(sub)}#${this.connection}`;
  }

  private onRequest(msg: WatchRequest__Output): void {
    if (this.done) return;
    try {
      switch (msg.request) {
        case 'subscribe':
          if (this.sub !== undefined) {
            throw protocolError('subscribe sent twice on one Watch stream; open a new stream to change the subscription');
          }
          return this.onSubscribe(parseSubscribe(msg.subscribe!, this.call.getPeer()));
        case 'ack':
          return this.onAck(msg.ack!.version);
        case 'nack':
          return this.onNack(msg.nack!);
        default:
          throw protocolError('empty WatchRequest: set one of subscribe, ack, nack');
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private onSubscribe(sub: Subscription): void {
    this.sub = sub;
    this.filter = createClientFilter(sub, this.ctx.store);
    this.log = this.log.child({ client: this.clientId(sub), kind: sub.kind, target: subscriptionTarget(sub) });
    this.ctx.metrics.connectedClients.inc({ kind: sub.kind });
    this.log.info(
      { types: [...sub.types], lastAcceptedVersion: sub.lastAcceptedVersion || undefined },
      'config client subscribed',
    );
    this.sendSnapshot();
  }

  private requireSubscribed(what: string): Subscription {
    if (this.sub === undefined) {
      throw protocolError(`the first message on a Watch stream must be subscribe, not ${what}`);
    }
    return this.sub;
  }

  private checkVersion(version: string, what: string): void {
    const counter = this.ctx.clock.counterOf(version);
    if (counter === undefined || counter > this.lastSentCounter) {
      throw protocolError(`${what} for version "${version}", which this server never sent on this stream`);
    }
  }

  private onAck(version: string): void {
    this.requireSubscribed('ack');
    this.checkVersion(version, 'ack');
    this.lastAckedVersion = version;
    // The client has everything up to this version: forget how to undo it and anything older.
    const acked = this.ctx.clock.counterOf(version) ?? 0;
    for (const v of this.unacked.keys()) if ((this.ctx.clock.counterOf(v) ?? 0) <= acked) this.unacked.delete(v);
    this.log.debug({ version }, 'config version acknowledged');
  }

  private onNack(nack: Nack__Output): void {
    const sub = this.requireSubscribed('nack');
    this.checkVersion(nack.version, 'nack');
    const errors = nack.errors.map((e) => ({ type: e.key?.type ?? '', name: e.key?.name ?? '', message: e.message }));
    this.lastNack = { version: nack.version, message: nack.message, errors, at: new Date() };
    this.ctx.metrics.nacks.inc({ kind: sub.kind, type: nackTypeLabel(nack) });
    this.undo(nack.version);
    // The client keeps serving its previous config; keep pushing, later versions may fix it.
    this.log.warn(
      { version: nack.version, nackMessage: nack.message, errors },
      'config client rejected a version (NACK); it keeps its previous config',
    );
  }

  /**
   * The client rejected `version` and kept what it had: `known` goes back to that for every id the
   * version changed (unless a later version changed it again), and those ids are sent again with
   * the next push. Without this the client would silently lack what was in the rejected version.
   */
  private undo(version: string): void {
    const sent = this.unacked.get(version);
    if (sent === undefined) return;
    this.unacked.delete(version);
    if (sent.snapshot) {
      // What the client has instead is unknown: treat it as nothing, so the next push re-adds all.
      for (const id of this.known.keys()) this.retry.add(id);
      this.known.clear();
      return;
    }
    for (const [id, before, after] of sent.changes) {
      if (this.known.get(id) !== after) continue;
      if (before === undefined) this.known.delete(id);
      else this.known.set(id, before);
      this.retry.add(id);
    }
  }

  private sendSnapshot(): void {
    const snap = this.ctx.snapshots.get(this.filter!);
    this.known.reset(snap.revisions);
    this.dirty.clear();
    this.dirtySince = undefined;
    this.unacked.clear();
    this.retry.clear();
    this.unacked.set(snap.version, { snapshot: true, changes: [] });
    this.write(snap.bytes, snap.version, 'snapshot', undefined);
  }

  private pump(): void {
    if (this.done || this.writing || this.needDrain || this.dirty.size === 0 || this.filter === undefined) return;
    const ids = this.dirty;
    const since = this.dirtySince;
    this.dirty = new Set();
    this.dirtySince = undefined;
    const before = new Map<ResourceId, number | undefined>();
    for (const id of ids) before.set(id, this.known.get(id));
    const delta = takeDelta(ids, this.known, this.ctx.store, this.filter);
    if (isEmptyDelta(delta)) return;
    const version = this.ctx.clock.versionFor(this.ctx.store.generation);
    const record = this.unacked.get(version) ?? { snapshot: false, changes: [] };
    for (const [id, was] of before) {
      const now = this.known.get(id);
      if (now !== was) record.changes.push([id, was, now]);
    }
    this.unacked.set(version, record);
    const bytes = concatWatchResponse({
      version,
      snapshot: false,
      added: delta.added.map(resourceBytes),
      updated: delta.updated.map(resourceBytes),
      removed: delta.removed.map((r) => resourceKeyBytes(r.type, r.name)),
    });
    this.write(bytes, version, 'delta', since);
  }

  private write(bytes: Buffer, version: string, push: 'snapshot' | 'delta', since: number | undefined): void {
    const kind = this.sub!.kind;
    this.writing = true;
    this.lastSentVersion = version;
    this.lastSentCounter = this.ctx.clock.counterOf(version) ?? this.lastSentCounter;
    // The callback runs once grpc-js has handed the message to HTTP/2, i.e. within the client's
    // flow-control window: a client that stops reading stops our writes here.
    const accepted = this.call.write(bytes, (err?: Error | null) => {
      this.writing = false;
      if (err || this.done) return;
      this.ctx.metrics.pushes.inc({ kind, push });
      if (since !== undefined) this.ctx.metrics.pushLatency.observe({ kind }, (performance.now() - since) / 1000);
      this.pump();
    });
    if (!accepted) this.needDrain = true;
  }

  /** Ends the stream with the status of `err` (FAILED_PRECONDITION for protocol errors). */
  private fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const metadata = new grpc.Metadata();
    if (err instanceof ControlPlaneError) metadata.set('ambit-error-code', err.code);
    this.log.warn({ err }, 'ending Watch stream');
    this.teardown(message);
    // grpc-js turns an 'error' event into the call's final status.
    this.call.emit('error', Object.assign(new Error(message), { code: grpcStatusOf(err), details: message, metadata }));
  }

  private teardown(reason: string): void {
    if (this.done) return;
    this.done = true;
    this.dirty.clear();
    this.known.clear();
    this.unacked.clear();
    this.retry.clear();
    if (this.sub !== undefined) {
      this.ctx.metrics.connectedClients.dec({ kind: this.sub.kind });
      this.log.info({ reason, lastSentVersion: this.lastSentVersion, lastAckedVersion: this.lastAckedVersion }, 'config client disconnected');
    }
    this.ctx.onDone(this);
  }
}
