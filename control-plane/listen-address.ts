// "host:port" listen addresses for the control plane's servers, parsed once with a clear error.
import net from 'node:net';
import { ControlPlaneError, ControlPlaneErrorCodes } from './errors';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses "127.0.0.1:15012", "[::1]:15012" or ":15012" (all interfaces); port 0 = any free port. */
export function parseListenAddress(name: string, value: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(value.trim());
  const port = m === null ? NaN : Number(m[3]);
  const host = m === null ? '' : m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]);
  if (m === null || port > 65535 || (m[1] !== undefined && net.isIPv6(host) === false)) {
    throw new ControlPlaneError(
      ControlPlaneErrorCodes.INVALID_OPTION,
      `${name}="${value}" is not a listen address; use host:port, e.g. 127.0.0.1:15012, [::1]:15012 or :15012`,
    );
  }
  return { host, port };
}

export const formatAddress = (a: ListenAddress): string => (net.isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
