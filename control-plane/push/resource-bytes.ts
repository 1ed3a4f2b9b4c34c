/**
 * Encoded bytes of stored resources and of whole snapshot sections, each built once.
 *
 * A StoredResource is frozen and replaced on every change, so the object itself is the cache key:
 * a WeakMap entry lives exactly as long as that revision is referenced.
 */
import {
  assembleWatchResponse,
  encodeResource,
  encodeResourceKey,
  frameRepeated,
  watchResponseFields,
  wireResource,
} from '../../common/proto/codec';
import type { ResourceId, ResourceStore, ResourceTypeName, StoredResource } from '../model/resource-store';
import type { ClientFilter } from './client-filter';
import type { VersionClock } from './versions';

const encoded = new WeakMap<StoredResource, Buffer>();

/**
 * The Resource message bytes of one stored revision (encoded on first use), in the compact wire
 * form (common/proto/wire-form.ts: no key, uids or endpoint uids a client can derive).
 */
export function resourceBytes(r: StoredResource): Buffer {
  let b = encoded.get(r);
  if (b === undefined) {
    b = encodeResource(wireResource(r.resource));
    encoded.set(r, b);
  }
  return b;
}

export function resourceKeyBytes(type: ResourceTypeName, name: string): Buffer {
  return encodeResourceKey({ type, name });
}

export interface ViewSnapshot {
  /** Store generation the snapshot was taken at, and its version. */
  readonly generation: number;
  readonly version: string;
  /** id -> revision of every resource in it; shared by the clients it was sent to. */
  readonly revisions: ReadonlyMap<ResourceId, number>;
  /** The whole WatchResponse: version, snapshot=true, every resource in `added`. */
  readonly bytes: Buffer;
}

/**
 * Snapshot responses per client view at the current store generation: every agent with the same
 * types (and every replica of a waypoint) gets the very same bytes, so a reconnect storm encodes
 * and assembles each view once; per client only grpc-js's framing copy remains.
 */
export class SnapshotCache {
  private readonly byView = new Map<string, ViewSnapshot>();

  constructor(
    private readonly store: ResourceStore,
    private readonly clock: VersionClock,
  ) {}

  get(filter: ClientFilter): ViewSnapshot {
    const generation = this.store.generation;
    const hit = this.byView.get(filter.viewKey);
    if (hit !== undefined && hit.generation === generation) return hit;
    // Entries of older generations are useless now.
    for (const [k, v] of this.byView) if (v.generation !== generation) this.byView.delete(k);
    const revisions = new Map<ResourceId, number>();
    const encoded: Buffer[] = [];
    for (const r of this.store.all()) {
      if (!filter.visible(r)) continue;
      revisions.set(r.id, r.revision);
      encoded.push(resourceBytes(r));
    }
    const version = this.clock.versionFor(generation);
    const added = frameRepeated(watchResponseFields().added, encoded);
    const snap: ViewSnapshot = { generation, version, revisions, bytes: assembleWatchResponse(version, true, [added]) };
    this.byView.set(filter.viewKey, snap);
    return snap;
  }

  clear(): void {
    this.byView.clear();
  }
}
