/**
 * The HBONE :authority: the destination as an IP literal and a port (`10.1.2.3:8080`,
 * `[fd00::1]:8080`), the form ztunnel sends. Host names are refused: the sender has already
 * resolved the service, and the receiver must not resolve anything a peer names.
 */
import net from 'node:net';
import { HboneError, HboneErrorCodes } from './errors';

export interface Authority {
  /** IP literal, without brackets. */
  readonly host: string;
  readonly port: number;
}

/** Longest valid form: a bracketed IPv6 with embedded IPv4 (47) plus ':65535'. */
const MAX_LENGTH = 64;
const PORT = /^[0-9]{1,5}$/;

/** Parses `ip:port` / `[ipv6]:port`; HboneError BAD_AUTHORITY naming the problem otherwise. */
export function parseAuthority(value: string): Authority {
  const shown = value.length > MAX_LENGTH ? `${value.slice(0, MAX_LENGTH)}...` : value;
  const fail = (why: string): never => {
    throw new HboneError(HboneErrorCodes.BAD_AUTHORITY, `authority "${shown}" ${why}`);
  };
  if (value.length === 0) fail('is empty');
  if (value.length > MAX_LENGTH) fail(`is longer than ${MAX_LENGTH} characters`);
  let host: string;
  let portText: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) fail('opens "[" without closing it');
    host = value.slice(1, close);
    if (value[close + 1] !== ':') fail('needs ":<port>" after the IPv6 address');
    portText = value.slice(close + 2);
    // Zone IDs (fe80::1%eth0) name an interface of the sender, meaningless to the receiver.
    if (!net.isIPv6(host) || host.includes('%')) fail('does not hold an IPv6 address inside [ ]');
  } else {
    const colon = value.lastIndexOf(':');
    if (colon === -1) fail('has no port; expected <ip>:<port>');
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
    if (net.isIPv6(host)) fail('holds an IPv6 address without brackets; expected [<ipv6>]:<port>');
    if (!net.isIPv4(host)) fail('must be an IP address and port, not a host name');
  }
  if (!PORT.test(portText)) fail('has a port that is not a decimal number');
  const port = Number(portText);
  if (port < 1 || port > 65535) fail('has a port outside 1-65535');
  return Object.freeze({ host, port });
}

/** `ip:port`, bracketing IPv6. */
export function formatAuthority(host: string, port: number): string {
  if (net.isIP(host) === 0) {
    throw new HboneError(HboneErrorCodes.BAD_AUTHORITY, `"${host}" is not an IP address; HBONE authorities are IP literals`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new HboneError(HboneErrorCodes.BAD_AUTHORITY, `port ${port} is outside 1-65535`);
  }
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
