/**
 * String formats the schemas use beyond ajv-formats: IP addresses and CIDR blocks (Istio ipBlocks,
 * pod and Service IPs). node:net does the parsing, so they accept exactly what Node can connect to.
 */
import net from 'node:net';
import type Ajv from 'ajv';

/** An IPv4 or IPv6 address, without an IPv6 zone ("%eth0"), which Kubernetes does not allow. */
export function isIpAddress(s: string): boolean {
  return !s.includes('%') && net.isIP(s) !== 0;
}

/** "a.b.c.d/n" (n <= 32) or "v6/n" (n <= 128). */
export function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const addr = s.slice(0, slash);
  const prefix = s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefix) || !isIpAddress(addr)) return false;
  return Number(prefix) <= (net.isIPv4(addr) ? 32 : 128);
}

/** What each custom format means, for error messages. */
export const FORMAT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  ip: 'an IPv4 or IPv6 address',
  'ip-or-cidr': 'an IPv4/IPv6 address or CIDR block (e.g. 10.0.0.0/16)',
  'cluster-ip': 'an IPv4 or IPv6 address, "None" (headless) or empty',
  'date-time': 'an RFC 3339 date-time (e.g. 2024-01-02T03:04:05Z)',
};

export function addAmbitFormats(ajv: Ajv): void {
  ajv.addFormat('ip', { type: 'string', validate: isIpAddress });
  ajv.addFormat('ip-or-cidr', { type: 'string', validate: (s: string) => isIpAddress(s) || isCidr(s) });
  ajv.addFormat('cluster-ip', { type: 'string', validate: (s: string) => s === '' || s === 'None' || isIpAddress(s) });
}
