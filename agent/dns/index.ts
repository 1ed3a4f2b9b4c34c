/** The agent's DNS proxy: public surface (see dns-proxy.ts for how the agent wires it per pod). */
export { DnsProxy, startPodDnsProxy } from './dns-proxy';
export type { DnsPodInfo, DnsProxyOptions, PodDnsProxy, StartPodDnsProxyOptions } from './dns-proxy';
export { ServiceDnsTable, normalizeName } from './service-dns-table';
export type { DnsAddresses, DnsLookup, ServiceDnsEntry } from './service-dns-table';
export { DnsUpstream, NoUpstream } from './upstream-client';
export type { DnsForwarder, DnsTransport, DnsUpstreamOptions, UpstreamAddress } from './upstream-client';
export { handleDnsMessage } from './dns-handler';
export type { DnsHandlerContext, DnsHooks, DnsOutcome, DnsQueryEvent } from './dns-handler';
export { findName, podSearchDomains, DEFAULT_CLUSTER_DOMAIN } from './search-names';
export { parseResolvConf, formatResolvConf, upstreamFromResolvConf } from './resolv-conf';
export { DnsError, DnsErrorCodes } from './errors';
