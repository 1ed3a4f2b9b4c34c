/**
 * Who a Watch client is and which resource types it receives, parsed from its Subscribe message.
 * Validation failures are protocol errors: the stream ends with FAILED_PRECONDITION.
 */
import type { Subscribe__Output } from '../../common/proto/generated/ambit/v1/Subscribe';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import { RESOURCE_TYPES, ResourceTypeName } from '../model/resource-store';

export type ClientKind = 'agent' | 'waypoint';

/** What each kind consumes when Subscribe.types is empty; explicit types narrow this set. */
export const DEFAULT_TYPES: Readonly<Record<ClientKind, readonly ResourceTypeName[]>> = {
  agent: ['WORKLOAD', 'SERVICE', 'AUTHORIZATION', 'PEER_AUTHENTICATION'],
  waypoint: ['WORKLOAD', 'SERVICE', 'ROUTE', 'AUTHORIZATION', 'REQUEST_AUTHENTICATION', 'DESTINATION_POLICY'],
};

export interface WaypointRef {
  readonly namespace: string;
  readonly name: string;
}

interface SubscriptionBase {
  readonly types: ReadonlySet<ResourceTypeName>;
  /** Client-chosen id for logs (may be empty). */
  readonly clientId: string;
  readonly lastAcceptedVersion: string;
}

export interface AgentSubscription extends SubscriptionBase {
  readonly kind: 'agent';
  readonly node: string;
}

export interface WaypointSubscription extends SubscriptionBase {
  readonly kind: 'waypoint';
  readonly waypoint: WaypointRef;
}

export type Subscription = AgentSubscription | WaypointSubscription;

const protocolError = (message: string): ControlPlaneError =>
  new ControlPlaneError(ControlPlaneErrorCodes.PROTOCOL, message);

/** "<namespace>/<name>", both non-empty. */
export function parseWaypointRef(value: string): WaypointRef {
  const parts = value.split('/');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw protocolError(`subscribe.waypoint "${value}" is not "<namespace>/<name>"`);
  }
  return { namespace: parts[0], name: parts[1] };
}

function narrowTypes(kind: ClientKind, requested: readonly string[]): Set<ResourceTypeName> {
  const defaults = DEFAULT_TYPES[kind];
  const wanted = requested.filter((t) => t !== 'RESOURCE_TYPE_UNSPECIFIED');
  if (wanted.length === 0) return new Set(defaults);
  for (const t of wanted) {
    if (!(RESOURCE_TYPES as readonly string[]).includes(t)) throw protocolError(`subscribe.types has unknown type ${t}`);
  }
  // Types the kind never uses are dropped rather than refused, so a newer client asking for more
  // still gets what this server can give it.
  return new Set(defaults.filter((t) => wanted.includes(t)));
}

export function parseSubscribe(msg: Subscribe__Output): Subscription {
  const common = { clientId: msg.clientId, lastAcceptedVersion: msg.lastAcceptedVersion };
  if (msg.client === 'node') {
    if (!msg.node) throw protocolError('subscribe.node is empty; an agent must name its node');
    return { kind: 'agent', node: msg.node, types: narrowTypes('agent', msg.types), ...common };
  }
  if (msg.client === 'waypoint') {
    const waypoint = parseWaypointRef(msg.waypoint ?? '');
    return { kind: 'waypoint', waypoint, types: narrowTypes('waypoint', msg.types), ...common };
  }
  throw protocolError('subscribe must set node (agent) or waypoint ("<namespace>/<name>")');
}

/** A short label for logs and /debug/clients: "node1" or "ns/waypoint". */
export function subscriptionTarget(sub: Subscription): string {
  return sub.kind === 'agent' ? sub.node : `${sub.waypoint.namespace}/${sub.waypoint.name}`;
}
