/**
 * Address matching for ipBlocks / remoteIpBlocks / `source.ip`-style conditions, shared by the
 * agent and the waypoint. Addresses are compared in one shape: 16 bytes, IPv4 as v4-mapped.
 */
import { ipToBytes, isV4Mapped, parseCidr } from '../net/ip';
import type { Address__Output } from '../proto/generated/ambit/v1/Address';
import type { StringMatch__Output } from '../proto/generated/ambit/v1/StringMatch';
import { Matcher, matchKind, stringMatcher } from './string-match';

export interface IpKey {
  readonly bytes: Buffer;
  readonly family: 4 | 6;
}

/** Parses an address; an IPv4-mapped IPv6 address (dual-stack sockets) counts as IPv4. */
export function ipKey(text: string): IpKey | undefined {
  let bytes: Buffer;
  try {
    bytes = ipToBytes(text);
  } catch {
    return undefined;
  }
  return { bytes, family: isV4Mapped(bytes) ? 4 : 6 };
}

/**
 * A CIDR block ("10.0.0.0/8", "2001:db8::/32", or a bare address). Families never cross: "::/0"
 * does not contain IPv4 addresses, as in ztunnel (ipnet) and Envoy. An unparsable block matches
 * nothing (the control plane validated it; this is a backstop, like Istio skipping bad entries).
 */
export function blockMatcher(cidr: string): Matcher<IpKey | undefined> {
  let block: ReturnType<typeof parseCidr>;
  try {
    block = parseCidr(cidr.trim());
  } catch {
    return () => false;
  }
  const { bytes, prefix128, family } = block;
  const whole = prefix128 >> 3;
  const rest = prefix128 & 7;
  const mask = (0xff00 >> rest) & 0xff;
  return (ip) => {
    if (ip === undefined || ip.family !== family) return false;
    for (let i = 0; i < whole; i++) if (ip.bytes[i] !== bytes[i]) return false;
    return rest === 0 || (ip.bytes[whole] & mask) === bytes[whole];
  };
}

export const addressMatchers = (list: readonly Address__Output[]): Matcher<IpKey | undefined>[] => list.map((a) => blockMatcher(a.cidr));

/** An address with its text, for conditions that may compare either. */
export interface IpValue {
  readonly key: IpKey | undefined;
  readonly text: string;
}

export const ipValue = (text: string): IpValue => ({ key: ipKey(text), text });

/** An IP condition value is a block ("10.0.0.0/8", "fd00::1"); other match kinds compare the address text. */
export function ipConditionMatcher(m: StringMatch__Output): Matcher<IpValue> {
  if (matchKind(m) === 'exact') {
    const block = blockMatcher(m.exact ?? '');
    return (v) => block(v.key);
  }
  const s = stringMatcher(m);
  return (v) => s(v.text);
}
