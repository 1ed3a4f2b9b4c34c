/**
 * Who a Watch client is and which resource types it receives, parsed from its Subscribe message.
 * Validation failures are protocol errors: the stream ends with FAILED_PRECONDITION.
 */
import net from 'node:net';
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
  /** Where the client's Prometheus /metrics is served, for the dashboard; absent = not scraped. */
  readonly metricsUrl?: string;
  /** Why a metrics_url the client sent is not used (the stream goes on without it). */
  readonly metricsUrlProblem?: string;
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

/**
 * Subscribe.metrics_url: an absolute http:// URL. A bad one only costs the dashboard that client's
 * numbers, so it is reported (metricsUrlProblem) instead of ending the config stream.
 */
export function parseMetricsUrl(value: string | undefined): { metricsUrl?: string; metricsUrlProblem?: string } {
  if (value === undefined || value === '') return {};
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { metricsUrlProblem: `subscribe.metrics_url "${value}" is not a URL; send http://host:port/metrics` };
  }
  if (url.protocol !== 'http:' || url.hostname === '' || url.username !== '' || url.password !== '') {
    return { metricsUrlProblem: `subscribe.metrics_url "${value}" must be http://host:port/path without credentials` };
  }
  return { metricsUrl: url.href };
}

const isLoopback = (ip: string): boolean => (net.isIPv4(ip) ? ip.startsWith('127.') : ip === '::1');

/** The IP of a gRPC peer ("1.2.3.4:5", "[::1]:5", "ipv4:..."); undefined for a unix socket or "unknown". */
export function peerIp(peer: string | undefined): string | undefined {
  const m = /^(?:ipv[46]:)?\[?([0-9a-fA-F:.]+?)\]?:\d+$/.exec(peer ?? '');
  return m && net.isIP(m[1]) !== 0 ? m[1] : undefined;
}

/**
 * The control plane fetches metrics_url every few seconds, so a client may only offer its own
 * address: the host must be the address its connection comes from (any loopback address counts
 * as the same machine). Otherwise an authenticated client could point the control plane at any
 * host, or feed the dashboard another proxy's numbers. Clients on the local unix socket are on
 * this machine already.
 */
export function checkMetricsHost(parsed: { metricsUrl?: string; metricsUrlProblem?: string }, peer: string | undefined): { metricsUrl?: string; metricsUrlProblem?: string } {
  const ip = peerIp(peer);
  if (parsed.metricsUrl === undefined || ip === undefined) return parsed;
  const host = new URL(parsed.metricsUrl).hostname.replace(/^\[|\]$/g, '');
  if (host === ip || (isLoopback(host) && isLoopback(ip))) return parsed;
  return {
    metricsUrlProblem:
      `subscribe.metrics_url host ${host} is not the address this client connects from (${ip}); not scraped ` +
      '(a client may only offer its own address: bind the metrics listener to the address it reaches the control plane from)',
  };
}

/** A decoded Subscribe; metrics_url is optional so hand-built messages (tests, bench) may leave it off. */
export type SubscribeMessage = Omit<Subscribe__Output, 'metricsUrl'> & Partial<Pick<Subscribe__Output, 'metricsUrl'>>;

/** `peer`: the gRPC peer (call.getPeer()), which metrics_url must name. */
export function parseSubscribe(msg: SubscribeMessage, peer?: string): Subscription {
  const common = { clientId: msg.clientId, lastAcceptedVersion: msg.lastAcceptedVersion, ...checkMetricsHost(parseMetricsUrl(msg.metricsUrl), peer) };
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
