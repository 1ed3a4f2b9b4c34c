/**
 * gRPC addresses: "host:port" or "unix:/absolute/path". A unix socket is how pods of the local
 * runtime reach the control plane: they live in other network namespaces, where the control
 * plane's 127.0.0.1 is not reachable, but a socket file is (the filesystem is shared).
 * grpc-js takes "unix:/abs/path" as-is, both to listen (bindAsync) and to dial (client target).
 */
import path from 'node:path';
import { parseListenAddress, SettingError, type ListenAddress } from './declared-settings';

/** sun_path is 108 bytes on Linux, including the terminating NUL. */
export const MAX_UNIX_PATH_BYTES = 107;

export type GrpcAddress = ({ kind: 'tcp' } & ListenAddress) | { kind: 'unix'; path: string };

const UNIX_HINT = 'use unix:/absolute/path, e.g. unix:/run/ambit/control-plane.sock';

/** `value` starting "unix:", checked; undefined when it is not a unix address. */
function parseUnix(key: string, value: string): GrpcAddress | undefined {
  if (!value.startsWith('unix:')) return undefined;
  const p = value.slice('unix:'.length);
  // "unix://x" is grpc-js's authority form; only the plain absolute form is accepted, so one
  // spelling means one file everywhere.
  if (!path.isAbsolute(p) || p.startsWith('//') || path.normalize(p) !== p) {
    throw new SettingError(key, `${key}="${value}" is not a unix socket address; ${UNIX_HINT}`);
  }
  if (Buffer.byteLength(p) > MAX_UNIX_PATH_BYTES) {
    throw new SettingError(key, `${key}="${value}": the socket path is longer than ${MAX_UNIX_PATH_BYTES} bytes, which the kernel does not allow; use a shorter path`);
  }
  return { kind: 'unix', path: p };
}

/** A server address: "unix:/abs/path", or host:port as parseListenAddress (port 0 = any free port). */
export function parseGrpcListen(key: string, value: string): GrpcAddress {
  const unix = parseUnix(key, value.trim());
  if (unix !== undefined) return unix;
  try {
    return { kind: 'tcp', ...parseListenAddress(key, value) };
  } catch (e) {
    if (e instanceof SettingError) throw new SettingError(key, `${e.message}, or ${UNIX_HINT}`);
    throw e;
  }
}

/** A client target: "unix:/abs/path" or "host:port" with a host and a port 1-65535. */
export function parseGrpcTarget(key: string, value: string): GrpcAddress {
  const hint = `use host:port (e.g. 127.0.0.1:15012) or ${UNIX_HINT}`;
  const unix = parseUnix(key, value.trim());
  if (unix !== undefined) return unix;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/\s]+)):([0-9]{1,5})$/.exec(value.trim());
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port < 1 || port > 65535) throw new SettingError(key, `${key}="${value}" is not a control plane address; ${hint}`);
  return { kind: 'tcp', host: m[1] ?? m[2], port };
}

/** The grpc-js form of an address ("unix:/abs/path", "[::1]:15012", "127.0.0.1:15012"). */
export function formatGrpcAddress(a: GrpcAddress): string {
  if (a.kind === 'unix') return `unix:${a.path}`;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Settings parser for a client's control plane address (AMBIT_CONTROL_PLANE): returns the grpc-js target. */
export const controlPlaneAddress = (v: string, key: string): string => formatGrpcAddress(parseGrpcTarget(key, v));

/** Settings parser for a comma-separated list of server addresses (empty = none). */
export const grpcListenList = (v: string, key: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => formatGrpcAddress(parseGrpcListen(key, s)));
