// The config push engine: ConfigService.Watch over grpc-js.
export { addConfigService, DEFAULT_DEBOUNCE_MS, DEFAULT_MAX_DEBOUNCE_MS } from './config-service';
export type { ClientInfo, ConfigServiceHandle, ConfigServiceOptions, NackInfo } from './config-service';
export { DEFAULT_TYPES } from './subscription';
export type { ClientKind, Subscription } from './subscription';
