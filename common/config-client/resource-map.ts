/**
 * The client's view of the served resources: a map keyed "<TYPE>:<name>" (the control plane's
 * ResourceId format), and how one WatchResponse turns the current map into the next one.
 */
import type { Resource__Output } from '../proto/generated/ambit/v1/Resource';
import type { ResourceKey__Output } from '../proto/generated/ambit/v1/ResourceKey';
import type { WatchResponse__Output } from '../proto/generated/ambit/v1/WatchResponse';
import { LayeredMap } from './layered-map';

export type ResourceMap = ReadonlyMap<string, Resource__Output>;

export const resourceMapKey = (key: Pick<ResourceKey__Output, 'type' | 'name'>): string => `${key.type}:${key.name}`;

function keyOf(r: Resource__Output): string {
  if (r.key === null) throw new TypeError('resource without a key in a WatchResponse');
  return resourceMapKey(r.key);
}

/**
 * The map after `response`: a snapshot replaces everything; a delta is layered over the current
 * map (see layered-map.ts), which stays intact in case the update is rejected.
 */
export function applyResponse(current: ResourceMap, response: WatchResponse__Output): ResourceMap {
  if (response.snapshot) {
    const next = new Map<string, Resource__Output>();
    for (const r of response.added) next.set(keyOf(r), r);
    for (const r of response.updated) next.set(keyOf(r), r);
    for (const k of response.removed) next.delete(resourceMapKey(k));
    return next;
  }
  const set: Array<[string, Resource__Output]> = [];
  for (const r of response.added) set.push([keyOf(r), r]);
  for (const r of response.updated) set.push([keyOf(r), r]);
  return LayeredMap.apply(current, set, response.removed.map(resourceMapKey));
}
