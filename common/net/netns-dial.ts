/**
 * A TCP connection made from inside another network namespace: the socket is created there
 * through the addon's socket factory (setns on a worker thread, socket(), setns back; a socket's
 * netns is fixed when it is created), then handed to Node and connected. Nothing else enters the
 * namespace, and no process is spawned. Used by the agent (to reach an app from inside its pod),
 * by the local runtime (readiness probes and metrics from a node's netns) and by the CLI (admin
 * ports inside a pod).
 */
import fs from 'node:fs';
import net from 'node:net';
import { Native } from '../native/addon';

export interface NetnsDialOptions {
  /** Bind to this address (any port) before connecting, e.g. 127.0.0.6, which sk_lookup does not steer. */
  source?: string;
  /** SO_MARK, e.g. AGENT_SOCKET_MARK (capture never takes such sockets). */
  mark?: number;
  /** Fail with ETIMEDOUT after this long; default: the kernel's own SYN retries. */
  timeoutMs?: number;
  /** Aborting destroys the socket and rejects with Error('aborted'). */
  signal?: AbortSignal;
  /** TCP_NODELAY on the connected socket. */
  noDelay?: boolean;
}

/** Runs `fn` with an fd of the network namespace at `netnsPath`, closed afterwards. */
export async function withNetns<T>(netnsPath: string, fn: (netnsFd: number) => Promise<T>): Promise<T> {
  const fd = fs.openSync(netnsPath, 'r');
  try {
    return await fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A connected TCP socket to host:port, created inside `netns`: an open netns fd (left open) or a
 * netns file path (opened for the call; an open failure carries syscall 'open'). Failures to
 * enter the namespace carry syscall 'setns' / 'socket', connection failures 'connect'.
 */
export async function dialInNetns(netns: number | string, host: string, port: number, opts: NetnsDialOptions = {}): Promise<net.Socket> {
  const family = net.isIPv6(host) ? 6 : 4;
  const create = (netnsFd: number): Promise<number> =>
    Native.createSocket({ netnsFd, family, ...(opts.source ? { address: opts.source, port: 0 } : {}), ...(opts.mark !== undefined ? { mark: opts.mark } : {}) });
  const fd = typeof netns === 'number' ? await create(netns) : await withNetns(netns, create);
  const sock = new net.Socket({ fd });
  if (opts.noDelay) sock.setNoDelay(true);
  const { signal, timeoutMs } = opts;
  return new Promise<net.Socket>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const fail = (err: Error): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      sock.destroy();
      reject(err);
    };
    const abort = (): void => fail(new Error('aborted'));
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(
        () => fail(Object.assign(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT', syscall: 'connect' })),
        timeoutMs,
      );
    }
    sock.once('error', fail);
    sock.connect(port, host, () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      sock.removeListener('error', fail);
      resolve(sock);
    });
  });
}
