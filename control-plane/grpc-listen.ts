/**
 * Binding the gRPC server to its addresses: host:port, or a unix socket ("unix:/abs/path") that
 * pods in other network namespaces can reach (the local runtime's pods). A socket file is owner-only
 * (0600: it serves certificates to whoever holds a node token), replaces a stale file left by a dead
 * process, never replaces a live one, and is removed when the control plane stops.
 */
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import net from 'node:net';
import { formatGrpcAddress, GrpcAddress, parseGrpcListen } from '../common/settings/grpc-address';
import { SettingError } from '../common/settings/declared-settings';
import { ControlPlaneError, ControlPlaneErrorCodes } from './errors';

const optionError = (message: string, cause?: unknown): ControlPlaneError =>
  new ControlPlaneError(ControlPlaneErrorCodes.INVALID_OPTION, message, cause === undefined ? undefined : { cause });

export function parseGrpcListenOption(name: string, value: string): GrpcAddress {
  try {
    return parseGrpcListen(name, value);
  } catch (e) {
    if (e instanceof SettingError) throw optionError(e.message);
    throw e;
  }
}

/** Whether something accepts connections on the socket file. */
function isLive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Removes a stale socket file; refuses a live socket or a file that is not a socket. */
async function clearSocketPath(socketPath: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socketPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw optionError(`cannot inspect ${socketPath}: ${(e as Error).message}`, e);
  }
  if (!st.isSocket()) throw optionError(`${socketPath} exists and is not a socket; remove it or choose another path`);
  if (await isLive(socketPath)) throw optionError(`${socketPath} is served by another process; is another control plane running?`);
  fs.rmSync(socketPath, { force: true });
}

function bindAsync(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err) reject(optionError(`cannot listen for gRPC on ${address}: ${err.message}; is another control plane running?`, err));
      else resolve(port);
    });
  });
}

export interface BoundGrpcAddress {
  /** The address clients dial: the actual port for host:port 0, "unix:/path" for a socket. */
  readonly address: string;
  /** Removes what the binding left on disk (a socket file). Idempotent. */
  cleanup(): void;
}

export async function bindGrpcAddress(server: grpc.Server, a: GrpcAddress): Promise<BoundGrpcAddress> {
  if (a.kind === 'tcp') {
    const port = await bindAsync(server, formatGrpcAddress(a));
    return { address: formatGrpcAddress({ ...a, port }), cleanup: () => undefined };
  }
  await clearSocketPath(a.path);
  await bindAsync(server, formatGrpcAddress(a));
  // The socket exists with the process umask's mode until this chmod; keep it in a 0700 directory
  // to close that window.
  fs.chmodSync(a.path, 0o600);
  const { ino } = fs.statSync(a.path);
  let cleaned = false;
  return {
    address: formatGrpcAddress(a),
    cleanup: () => {
      if (cleaned) return;
      cleaned = true;
      // Only our own socket: a successor may already have replaced the file.
      try {
        if (fs.lstatSync(a.path).ino === ino) fs.rmSync(a.path, { force: true });
      } catch {
        // already gone
      }
    },
  };
}
