/**
 * ConfigClient options and the update it hands to `accept`, with their validation. A bad option is
 * a programming or configuration error: it throws at construction, naming the option.
 */
import type * as grpc from '@grpc/grpc-js';
import { AmbitError, ErrorCodes } from '../errors';
import type { Logger } from '../log';
import type { Resource__Output } from '../proto/generated/ambit/v1/Resource';
import type { ResourceKey__Output } from '../proto/generated/ambit/v1/ResourceKey';
import type { ResourceType__Output } from '../proto/generated/ambit/v1/ResourceType';
import type { Subscribe } from '../proto/generated/ambit/v1/Subscribe';
import { SettingError } from '../settings/declared-settings';
import { parseGrpcTarget } from '../settings/grpc-address';
import type { BackoffOptions } from './backoff';
import type { ResourceMap } from './resource-map';

export type ConfigResourceType = Exclude<ResourceType__Output, 'RESOURCE_TYPE_UNSPECIFIED'>;

interface SubscriptionCommon {
  /** Narrows what the server sends; empty = every type the client kind uses. */
  types?: readonly ConfigResourceType[];
  /** Shown in control-plane logs and /debug/clients; default "<kind> <target> pid <pid>". */
  clientId?: string;
  /**
   * Where this client's Prometheus /metrics is served, as the control plane reaches it (its
   * dashboard scrapes it). A function is read at every (re)subscribe: the metrics server may
   * bind after the client is built.
   */
  metricsUrl?: string | (() => string | undefined);
}

export type ConfigSubscription =
  | (SubscriptionCommon & { node: string; waypoint?: undefined })
  | (SubscriptionCommon & { waypoint: string; node?: undefined });

export interface ConfigUpdate {
  /** "cache" for the snapshot loaded from cachePath at start. */
  readonly source: 'server' | 'cache';
  readonly version: string;
  /** True: `added` is everything (the state is replaced). */
  readonly snapshot: boolean;
  readonly added: readonly Resource__Output[];
  readonly updated: readonly Resource__Output[];
  readonly removed: readonly ResourceKey__Output[];
  /** The complete state if this update is accepted, keyed "<TYPE>:<name>". */
  readonly resources: ResourceMap;
}

export interface ConfigClientOptions {
  /** The control plane's gRPC server: host:port, or unix:/abs/path (reachable from any network namespace). */
  address: string;
  subscription: ConfigSubscription;
  /** Validates and applies an update. Return (or resolve) = ACK; throw (or reject) = NACK. */
  accept: (update: ConfigUpdate) => void | Promise<void>;
  /** Where to keep the last accepted snapshot (written 0600); loaded by start(). */
  cachePath?: string;
  /** Default: insecure (plaintext), as for a node-local or test control plane. */
  credentials?: grpc.ChannelCredentials;
  backoff?: BackoffOptions;
  /** Largest WatchResponse accepted; default 256 MiB. */
  maxMessageBytes?: number;
  /** Extra grpc-js channel options (override the defaults above). */
  channelOptions?: grpc.ChannelOptions;
  logger?: Logger;
}

const invalid = (message: string): AmbitError => new AmbitError(ErrorCodes.INVALID_ARGUMENT, message);

export function validateOptions(opts: ConfigClientOptions): void {
  if (typeof opts.address !== 'string' || opts.address === '') throw invalid('ConfigClient address is empty; pass "host:port" or "unix:/abs/path"');
  try {
    parseGrpcTarget('ConfigClient address', opts.address);
  } catch (e) {
    if (e instanceof SettingError) throw invalid(e.message);
    throw e;
  }
  if (typeof opts.accept !== 'function') throw invalid('ConfigClient accept must be a function');
  const sub = opts.subscription;
  const hasNode = typeof sub?.node === 'string' && sub.node !== '';
  const hasWaypoint = typeof sub?.waypoint === 'string' && sub.waypoint !== '';
  if (hasNode === hasWaypoint) throw invalid('ConfigClient subscription must set exactly one of node or waypoint');
  if (hasWaypoint && !/^[^/]+\/[^/]+$/.test(sub.waypoint!)) {
    throw invalid(`ConfigClient subscription.waypoint "${sub.waypoint}" is not "<namespace>/<name>"`);
  }
  if (opts.cachePath !== undefined && opts.cachePath === '') throw invalid('ConfigClient cachePath is empty');
  if (opts.maxMessageBytes !== undefined && !(Number.isInteger(opts.maxMessageBytes) && opts.maxMessageBytes > 0)) {
    throw invalid(`ConfigClient maxMessageBytes=${opts.maxMessageBytes} must be a positive integer`);
  }
}

/** Identifies whose snapshot a cache file holds; a cache of another subscription is ignored. */
export function subscriptionKey(sub: ConfigSubscription): string {
  const who = sub.node !== undefined ? `node:${sub.node}` : `waypoint:${sub.waypoint}`;
  return `${who}|types=${[...(sub.types ?? [])].sort().join(',')}`;
}

export function subscribeMessage(sub: ConfigSubscription, lastAcceptedVersion: string | undefined): Subscribe {
  const target = sub.node !== undefined ? { node: sub.node } : { waypoint: sub.waypoint };
  const kind = sub.node !== undefined ? 'agent' : 'waypoint';
  return {
    ...target,
    types: [...(sub.types ?? [])],
    clientId: sub.clientId ?? `${kind} ${sub.node ?? sub.waypoint} pid ${process.pid}`,
    lastAcceptedVersion: lastAcceptedVersion ?? '',
    metricsUrl: (typeof sub.metricsUrl === 'function' ? sub.metricsUrl() : sub.metricsUrl) ?? '',
  };
}
