/**
 * resolv.conf(5) as far as the DNS proxy cares: the agent takes its upstream
 * resolver from its own /etc/resolv.conf (ztunnel reads the system
 * configuration the same way), and tests write pods' files with it.
 */
import fs from 'node:fs';
import net from 'node:net';
import { DnsError, DnsErrorCodes } from './errors';
import type { UpstreamAddress } from './upstream-client';

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  ndots?: number;
}

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [] };
  for (const line of text.split('\n')) {
    const words = line.replace(/[#;].*$/, '').trim().split(/\s+/).filter(Boolean);
    if (words.length < 2) continue;
    const [key, ...rest] = words;
    if (key === 'nameserver' && net.isIP(rest[0].split('%')[0]) !== 0) out.nameservers.push(rest[0]);
    // The last search/domain line wins (resolv.conf(5)).
    else if (key === 'search' || key === 'domain') out.search = rest;
    else if (key === 'options') {
      for (const opt of rest) {
        const m = /^ndots:(\d+)$/.exec(opt);
        if (m) out.ndots = Math.min(Number(m[1]), 15);
      }
    }
  }
  return out;
}

export function formatResolvConf(c: ResolvConf): string {
  const lines = c.nameservers.map((ns) => `nameserver ${ns}`);
  if (c.search.length) lines.push(`search ${c.search.join(' ')}`);
  if (c.ndots !== undefined) lines.push(`options ndots:${c.ndots}`);
  return `${lines.join('\n')}\n`;
}

/** The first nameserver of `path` (default the agent's /etc/resolv.conf), port 53. */
export function upstreamFromResolvConf(path = '/etc/resolv.conf'): UpstreamAddress {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new DnsError(DnsErrorCodes.INVALID_CONFIG, `cannot read ${path} for the DNS upstream; set it explicitly`, { cause: e });
  }
  const [first] = parseResolvConf(text).nameservers;
  if (first === undefined) {
    throw new DnsError(DnsErrorCodes.INVALID_CONFIG, `${path} names no nameserver; set the DNS upstream explicitly`);
  }
  return { address: first.split('%')[0], port: 53 };
}
