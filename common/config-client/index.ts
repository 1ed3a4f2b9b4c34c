// The config client library for agents and waypoints (ConfigService.Watch).
export { ConfigClient, ConfigRejectedError } from './config-client';
export type { ConfigClientOptions, ConfigResourceType, ConfigSubscription, ConfigUpdate } from './options';
export type { BackoffOptions } from './backoff';
export { resourceMapKey } from './resource-map';
export type { ResourceMap } from './resource-map';
