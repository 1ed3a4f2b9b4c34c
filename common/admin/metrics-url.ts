/**
 * The URL under which a bound metrics server can be scraped from elsewhere, sent to the control
 * plane in Subscribe.metrics_url (its dashboard scrapes it). A server bound to one address is
 * reached there; one bound to every interface (0.0.0.0 / ::, the default) is advertised at this
 * network namespace's first non-loopback address: a pod's IP in a pod, the node's IP on a node.
 */
import net from 'node:net';
import os from 'node:os';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/** First non-internal IPv4 address, else first global IPv6 one; undefined when there is none. */
export function primaryAddress(interfaces: Interfaces = os.networkInterfaces()): string | undefined {
  const all = Object.keys(interfaces)
    .sort()
    .flatMap((name) => interfaces[name] ?? [])
    .filter((a) => !a.internal);
  return all.find((a) => a.family === 'IPv4')?.address ?? all.find((a) => a.family === 'IPv6' && !a.address.toLowerCase().startsWith('fe80:'))?.address;
}

export function advertisedMetricsUrl(bound: { host: string; port: number }, interfaces?: Interfaces): string | undefined {
  const host = WILDCARDS.has(bound.host) ? primaryAddress(interfaces) : bound.host;
  if (host === undefined) return undefined;
  return `http://${net.isIPv6(host) ? `[${host}]` : host}:${bound.port}/metrics`;
}
