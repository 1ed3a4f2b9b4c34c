/**
 * What one client has: resource id -> revision last sent. Starts as the shared id->revision map of
 * the snapshot it was sent (every agent subscribing at one generation shares one map), plus this
 * client's own changes since; so a reconnect storm of 100 agents does not build 100 maps of 12k ids.
 */
import type { ResourceId } from '../model/resource-store';

/** The operations a delta needs (a plain Map also satisfies it). */
export interface KnownRevisions {
  get(id: ResourceId): number | undefined;
  set(id: ResourceId, revision: number): unknown;
  delete(id: ResourceId): unknown;
}

const REMOVED = -1;
/** Below this many own changes the overlay is never folded into a private map. */
const MIN_COMPACT = 1024;

export class KnownResources implements KnownRevisions {
  private base: ReadonlyMap<ResourceId, number> = new Map();
  /** Changes over `base`; REMOVED marks an id of `base` the client no longer has. */
  private overlay = new Map<ResourceId, number>();

  /** Replaces the content with `base` (shared, never mutated here). */
  reset(base: ReadonlyMap<ResourceId, number>): void {
    this.base = base;
    this.overlay.clear();
  }

  get(id: ResourceId): number | undefined {
    const own = this.overlay.get(id);
    if (own !== undefined) return own === REMOVED ? undefined : own;
    return this.base.get(id);
  }

  set(id: ResourceId, revision: number): void {
    this.overlay.set(id, revision);
    this.maybeCompact();
  }

  delete(id: ResourceId): void {
    if (this.base.has(id)) this.overlay.set(id, REMOVED);
    else this.overlay.delete(id);
    this.maybeCompact();
  }

  *keys(): IterableIterator<ResourceId> {
    for (const [id, rev] of this.overlay) if (rev !== REMOVED) yield id;
    for (const id of this.base.keys()) if (!this.overlay.has(id)) yield id;
  }

  clear(): void {
    this.reset(new Map());
  }

  /** Once this client has diverged a lot from its snapshot, keep a private map instead. */
  private maybeCompact(): void {
    if (this.overlay.size < MIN_COMPACT || this.overlay.size < this.base.size / 2) return;
    const merged = new Map<ResourceId, number>();
    for (const id of this.keys()) merged.set(id, this.get(id)!);
    this.base = merged;
    this.overlay = new Map();
  }
}
