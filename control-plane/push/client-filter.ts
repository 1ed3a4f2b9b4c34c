/**
 * Which stored resources one Watch client receives.
 *
 * Agents filter per resource (a resource's own fields decide), so a store change only needs the
 * changed resources re-checked. Waypoints depend on relations (a workload is visible because a
 * service bound to the waypoint lists it as an endpoint), so when services or routes change the
 * waypoint's scope is recomputed and every resource whose visibility may follow is re-checked.
 */
import type { ResourceId, ResourceStore, StoredResource } from '../model/resource-store';
import type { Subscription } from './subscription';
import { isTargetRefsScope, WaypointScope } from './waypoint-scope';

/** Returned by refresh() when the client's view changed beyond the changed resources themselves. */
export interface ViewChange {
  /** Ids that may have become visible; every id the client already has must be re-checked too. */
  readonly candidates: Iterable<ResourceId>;
}

export interface ClientFilter {
  /** Shared by clients that see exactly the same resources (lets snapshots be built once). */
  readonly viewKey: string;
  visible(r: StoredResource): boolean;
  /** Called once per pushed store batch, with the ids it changed, before visible() is asked. */
  refresh(changed: ReadonlySet<ResourceId>): ViewChange | null;
}

class AgentFilter implements ClientFilter {
  readonly viewKey: string;

  constructor(private readonly sub: Subscription) {
    // The node does not narrow anything today (agents get every workload), so all agents with
    // the same types share one view.
    this.viewKey = `agent|${[...sub.types].sort().join(',')}`;
  }

  visible(r: StoredResource): boolean {
    if (!this.sub.types.has(r.type)) return false;
    // Policies attached with targetRefs are enforced by a waypoint, never by the agent.
    if (r.type === 'AUTHORIZATION') return !isTargetRefsScope(r.resource.authorization?.scope);
    return true;
  }

  refresh(): ViewChange | null {
    return null;
  }
}

class WaypointFilter implements ClientFilter {
  readonly viewKey: string;
  private readonly scope: WaypointScope;

  constructor(
    private readonly sub: Subscription & { kind: 'waypoint' },
    private readonly store: ResourceStore,
  ) {
    this.viewKey = `waypoint|${sub.waypoint.namespace}/${sub.waypoint.name}|${[...sub.types].sort().join(',')}`;
    this.scope = new WaypointScope(sub.waypoint);
    this.scope.rebuild(store);
  }

  visible(r: StoredResource): boolean {
    return this.sub.types.has(r.type) && this.scope.includes(r);
  }

  refresh(changed: ReadonlySet<ResourceId>): ViewChange | null {
    let relational = false;
    for (const id of changed) {
      if (id.startsWith('SERVICE:') || id.startsWith('ROUTE:')) {
        relational = true;
        break;
      }
    }
    if (!relational || !this.scope.rebuild(this.store)) return null;
    return { candidates: this.scope.candidates(this.store) };
  }
}

export function createClientFilter(sub: Subscription, store: ResourceStore): ClientFilter {
  return sub.kind === 'agent' ? new AgentFilter(sub) : new WaypointFilter(sub, store);
}
