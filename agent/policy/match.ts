/**
 * The matchers L4 authorization is built from: Istio string matches, address blocks, ports.
 * Policies are compiled once (see authorization.ts), so parsing happens per policy version, not
 * per connection.
 */
import { ipToBytes, isV4Mapped, parseCidr } from '../../common/net/ip';
import type { Address__Output } from '../../common/proto/generated/ambit/v1/Address';
import type { StringMatch__Output } from '../../common/proto/generated/ambit/v1/StringMatch';

/** A value tested by a rule; undefined when the connection has none (no peer identity). */
export type Matcher<T> = (value: T) => boolean;

/**
 * Istio's string match (control-plane/translate/string-match.ts made "*" presence, "p*" prefix,
 * "*s" suffix). Like ztunnel, a missing value is the empty string: only exact "" could match it,
 * and presence never does.
 */
export function stringMatcher(m: StringMatch__Output): Matcher<string | undefined> {
  const kind = m.match ?? (m.exact !== undefined ? 'exact' : m.prefix !== undefined ? 'prefix' : m.suffix !== undefined ? 'suffix' : m.presence !== undefined ? 'presence' : undefined);
  switch (kind) {
    case 'exact': {
      const want = m.exact ?? '';
      return (v) => (v ?? '') === want;
    }
    case 'prefix': {
      const p = m.prefix ?? '';
      return (v) => (v ?? '').startsWith(p);
    }
    case 'suffix': {
      const s = m.suffix ?? '';
      return (v) => (v ?? '').endsWith(s);
    }
    case 'presence':
      return (v) => v !== undefined && v !== '';
    default:
      // A matcher with no case set matches nothing: it cannot say what it wanted.
      return () => false;
  }
}

/** An address in the one shape blocks compare against: 16 bytes, IPv4 as v4-mapped. */
export interface IpKey {
  readonly bytes: Buffer;
  readonly family: 4 | 6;
}

/** Parses a connection address; an IPv4-mapped IPv6 address (dual-stack sockets) counts as IPv4. */
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

/**
 * One field of a rule: any positive entry must match (when there are any) and no negative entry
 * may. Both empty: the field does not constrain (ztunnel's matches_internal).
 */
export interface FieldMatcher<T> {
  readonly positive: readonly Matcher<T>[];
  readonly negative: readonly Matcher<T>[];
}

export function fieldMatches<T>(f: FieldMatcher<T>, value: T): boolean {
  if (f.positive.length > 0 && !f.positive.some((m) => m(value))) return false;
  return !f.negative.some((m) => m(value));
}

export const isEmptyField = (f: FieldMatcher<unknown>): boolean => f.positive.length === 0 && f.negative.length === 0;
