// One pooled upstream (HTTP/1 keep-alive agent or HTTP/2 session) per endpoint address and kind.
import type { ServiceEndpoint } from '../model/waypoint-view';

export const endpointKey = (ep: Pick<ServiceEndpoint, 'uid' | 'address' | 'port' | 'hbone'>): string => `${ep.uid}|${ep.address}|${ep.port}|${ep.hbone ? 'h' : 'p'}`;
