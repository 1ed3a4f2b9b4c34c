/**
 * ConfigService.Watch on a grpc-js server: store batches are debounced into pushes and fanned out
 * to every subscribed stream, each of which filters and diffs for its own client.
 */
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../common/log';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import type { ControlPlaneMetrics } from '../metrics';
import type { ResourceId, ResourceStore } from '../model/resource-store';
import { Debouncer } from './debounce';
import { SnapshotCache } from './resource-bytes';
import { VersionClock } from './versions';
import { WatchCall, watchServerDefinition } from './watch-definition';
import { ClientInfo, WatchStream } from './watch-stream';

export type { ClientInfo, NackInfo } from './watch-stream';

/** Quiet time after the last store batch before pushing: short, so one change arrives fast. */
export const DEFAULT_DEBOUNCE_MS = 10;
/** Longest a push waits while batches keep coming. */
export const DEFAULT_MAX_DEBOUNCE_MS = 100;

export interface ConfigServiceOptions {
  store: ResourceStore;
  logger: Logger;
  metrics: ControlPlaneMetrics;
  /** Trailing debounce (ms) after the last store batch; default 10. */
  debounceMs?: number;
  /** Upper bound (ms) on how long a burst of batches delays a push; default 100. */
  maxDebounceMs?: number;
  /** Prefix of every version; random per start by default. Tests may pin it. */
  instanceId?: string;
}

export interface ConfigServiceHandle {
  readonly instanceId: string;
  /** The version naming the store's current state. */
  currentVersion(): string;
  /** Subscribed clients, oldest first. */
  clients(): ClientInfo[];
  /** Stops pushing and ends every stream (status OK); later Watch calls get UNAVAILABLE. Idempotent. */
  close(): void;
}

function checkMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new ControlPlaneError(ControlPlaneErrorCodes.INVALID_OPTION, `${name}=${value} must be a number of milliseconds >= 0`);
  }
  return value;
}

export function addConfigService(server: grpc.Server, opts: ConfigServiceOptions): ConfigServiceHandle {
  const debounceMs = checkMs('debounceMs', opts.debounceMs, DEFAULT_DEBOUNCE_MS);
  const maxDebounceMs = checkMs('maxDebounceMs', opts.maxDebounceMs, DEFAULT_MAX_DEBOUNCE_MS);
  if (opts.instanceId !== undefined && !/^[A-Za-z0-9_.]+$/.test(opts.instanceId)) {
    throw new ControlPlaneError(
      ControlPlaneErrorCodes.INVALID_OPTION,
      `instanceId "${opts.instanceId}" must be non-empty and use only letters, digits, "_" and "."`,
    );
  }
  const { store, metrics } = opts;
  const logger = opts.logger.child({ component: 'config-push' });
  const clock = new VersionClock(opts.instanceId);
  const snapshots = new SnapshotCache(store, clock);
  const streams = new Set<WatchStream>();
  let connections = 0;
  let closed = false;

  // Ids changed since the last push, and when the oldest of those changes happened.
  let pending = new Set<ResourceId>();
  let pendingSince: number | undefined;
  const push = (): void => {
    if (pending.size === 0 || pendingSince === undefined) return;
    const changed = pending;
    const since = pendingSince;
    pending = new Set();
    pendingSince = undefined;
    for (const s of streams) s.enqueue(changed, since);
  };
  const debouncer = new Debouncer(push, debounceMs, maxDebounceMs);
  const unsubscribe = store.subscribe((delta) => {
    pendingSince ??= performance.now();
    for (const r of delta.upserted) pending.add(r.id);
    for (const r of delta.removed) pending.add(r.id);
    debouncer.trigger();
  });
  const untrack = metrics.trackStore(store);

  const ctx = { store, clock, snapshots, metrics, logger, onDone: (s: WatchStream) => streams.delete(s) };

  server.addService(watchServerDefinition(), {
    Watch: (call: WatchCall) => {
      if (closed) {
        const details = 'the config service is shutting down; reconnect to another control plane instance';
        call.emit('error', Object.assign(new Error(details), { code: grpc.status.UNAVAILABLE, details }));
        return;
      }
      streams.add(new WatchStream(call, ++connections, ctx));
    },
  });
  logger.info({ instanceId: clock.instanceId, debounceMs, maxDebounceMs }, 'config service ready');

  return {
    instanceId: clock.instanceId,
    currentVersion: () => clock.versionFor(store.generation),
    clients: () => {
      const out: ClientInfo[] = [];
      for (const s of streams) {
        const info = s.subscribed ? s.info() : undefined;
        if (info !== undefined) out.push(info);
      }
      return out;
    },
    close: () => {
      if (closed) return;
      closed = true;
      debouncer.cancel();
      unsubscribe();
      untrack();
      for (const s of [...streams]) s.end('config service closing');
      streams.clear();
      snapshots.clear();
    },
  };
}
