/**
 * Working inside a pod's network namespace from the agent: hold a netns fd
 * for the duration of an operation, and dial a TCP connection from inside the
 * pod — what the agent does to reach an app (from 127.0.0.6 / ::1, which
 * sk_lookup does not steer) or an off-mesh destination. Agent sockets carry
 * AGENT_SOCKET_MARK, so capture never takes them.
 */
import fs from 'node:fs';
import net from 'node:net';
import { Native } from '../../common/native/addon';
import { AGENT_SOCKET_MARK } from '../../common/ports';

/** Run `fn` with an fd of the network namespace at `netnsPath`, closed afterwards. */
export async function withNetns<T>(netnsPath: string, fn: (netnsFd: number) => Promise<T>): Promise<T> {
  const fd = fs.openSync(netnsPath, 'r');
  try {
    return await fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A connected socket to host:port, created inside the namespace at `netnsPath`, optionally from
 * `source`; fails with ETIMEDOUT after `timeoutMs` (default: the kernel's own SYN retries).
 */
export async function dialInNetns(netnsPath: string, host: string, port: number, source?: string, timeoutMs?: number): Promise<net.Socket> {
  const family = net.isIP(host) === 6 ? 6 : 4;
  const fd = await withNetns(netnsPath, (netnsFd) =>
    Native.createSocket({ netnsFd, family, address: source, port: source ? 0 : undefined, mark: AGENT_SOCKET_MARK }),
  );
  const sock = new net.Socket({ fd });
  sock.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            sock.destroy();
            reject(Object.assign(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
          }, timeoutMs);
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.connect(port, host, () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve();
    });
  });
  return sock;
}
