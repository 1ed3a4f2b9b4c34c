/**
 * One client's delta: which of the possibly-changed ids it must now add, update or remove, judged
 * against what it already has (`known`: id -> revision sent). A resource that newly becomes
 * visible is "added" even if it existed before; one that stops being visible is "removed" even if
 * it still exists.
 */
import type { RemovedResource, ResourceId, ResourceStore, ResourceTypeName, StoredResource } from '../model/resource-store';
import type { ClientFilter } from './client-filter';
import type { KnownRevisions } from './known-resources';

export interface ClientDelta {
  readonly added: StoredResource[];
  readonly updated: StoredResource[];
  readonly removed: RemovedResource[];
}

export const isEmptyDelta = (d: ClientDelta): boolean =>
  d.added.length === 0 && d.updated.length === 0 && d.removed.length === 0;

/** Splits a ResourceId ("<TYPE>:<name>"; types contain no ':'). */
export function parseResourceId(id: ResourceId): RemovedResource {
  const i = id.indexOf(':');
  return { id, type: id.slice(0, i) as ResourceTypeName, name: id.slice(i + 1) };
}

/** Computes the delta and records it in `known` (call only when the delta will be sent). */
export function takeDelta(
  ids: Iterable<ResourceId>,
  known: KnownRevisions,
  store: ResourceStore,
  filter: ClientFilter,
): ClientDelta {
  const delta: ClientDelta = { added: [], updated: [], removed: [] };
  for (const id of ids) {
    const current = store.get(id);
    const had = known.get(id);
    if (current !== undefined && filter.visible(current)) {
      if (had === undefined) delta.added.push(current);
      else if (had !== current.revision) delta.updated.push(current);
      else continue;
      known.set(id, current.revision);
    } else if (had !== undefined) {
      delta.removed.push(parseResourceId(id));
      known.delete(id);
    }
  }
  return delta;
}
