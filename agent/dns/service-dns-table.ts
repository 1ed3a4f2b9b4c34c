/**
 * The names the DNS proxy answers itself: Service hostnames
 * (`<svc>.<ns>.svc.cluster.local`, ServiceEntry hosts, `*.example.com`
 * wildcards) and their VIPs. The agent rebuilds it from its model with
 * replace(); lookups are exact and case-insensitive, search-path handling is
 * search-names.ts's job.
 */
import net from 'node:net';
import { DnsError, DnsErrorCodes } from './errors';

export interface DnsAddresses {
  v4: string[];
  v6: string[];
}

/** What the proxy needs from the mesh: the VIPs of one fully-qualified name, if it knows it. */
export interface DnsLookup {
  lookup(fqdn: string): DnsAddresses | undefined;
}

export interface ServiceDnsEntry {
  /** FQDN, with or without the trailing dot; `*.` as the first label makes a wildcard. */
  hostname: string;
  /** Service VIPs, IPv4 and/or IPv6. */
  vips: readonly string[];
}

const LABEL = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$/;

/** Lower-case, no trailing dot: the one spelling names are compared in. */
export function normalizeName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

function checkHostname(hostname: string): string {
  const n = normalizeName(hostname);
  const labels = n.split('.');
  const ok =
    n.length > 0 &&
    n.length <= 253 &&
    labels.every((l, i) => (i === 0 && l === '*' && labels.length > 1) || LABEL.test(l));
  if (!ok) {
    throw new DnsError(DnsErrorCodes.INVALID_HOSTNAME, `'${hostname}' is not a valid DNS hostname for the DNS table`);
  }
  return n;
}

export class ServiceDnsTable implements DnsLookup {
  private names = new Map<string, DnsAddresses>();

  constructor(entries: Iterable<ServiceDnsEntry> = []) {
    this.replace(entries);
  }

  /**
   * Swap in a new set of names at once (a lookup never sees half an update). Entries with
   * the same hostname are merged; a bad hostname or VIP throws and leaves the table as it was.
   */
  replace(entries: Iterable<ServiceDnsEntry>): void {
    const next = new Map<string, DnsAddresses>();
    for (const e of entries) {
      const name = checkHostname(e.hostname);
      const addrs = next.get(name) ?? { v4: [], v6: [] };
      for (const vip of e.vips) {
        const family = net.isIP(vip);
        if (family === 0) {
          throw new DnsError(DnsErrorCodes.INVALID_HOSTNAME, `VIP '${vip}' of ${e.hostname} is not an IP address`);
        }
        const list = family === 4 ? addrs.v4 : addrs.v6;
        if (!list.includes(vip)) list.push(vip);
      }
      // A Service without VIPs (headless) is left to the upstream resolver, as ztunnel does.
      if (addrs.v4.length + addrs.v6.length > 0) next.set(name, addrs);
    }
    this.names = next;
  }

  lookup(fqdn: string): DnsAddresses | undefined {
    const found = this.names.get(normalizeName(fqdn));
    return found && { v4: [...found.v4], v6: [...found.v6] };
  }

  get size(): number {
    return this.names.size;
  }
}
