/**
 * One GET of a /metrics URL with a deadline and a size cap. The TCP connection comes from a
 * `MetricsDialer`: plain net.connect by default; the local runtime passes one that dials pod
 * addresses from a node's network namespace (pods are not routed from the control plane's).
 */
import http from 'node:http';
import net from 'node:net';

/** Opens a TCP connection to host:port; rejects on failure or when `signal` aborts. */
export type MetricsDialer = (host: string, port: number, signal: AbortSignal) => Promise<net.Socket>;

export const directDial: MetricsDialer = (host, port, signal) =>
  new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const abort = (): void => {
      sock.destroy();
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', abort, { once: true });
    sock.once('error', (err) => {
      signal.removeEventListener('abort', abort);
      reject(err);
    });
    sock.once('connect', () => {
      signal.removeEventListener('abort', abort);
      resolve(sock);
    });
  });

export interface FetchOptions {
  timeoutMs: number;
  /** Larger bodies fail the scrape (a misbehaving target must not eat the control plane's memory). */
  maxBytes: number;
  dial: MetricsDialer;
}

const describe = (err: unknown): string => {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
};

/** The body of GET `url` (200 only); rejects with a short reason otherwise. */
export async function fetchMetricsText(url: string, opts: FetchOptions): Promise<string> {
  const u = new URL(url);
  const port = Number(u.port || 80);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs);
  try {
    const sock = await opts.dial(host, port, ac.signal).catch((err: unknown) => {
      throw new Error(ac.signal.aborted ? `connect timed out after ${opts.timeoutMs} ms` : `connect ${describe(err)}`);
    });
    return await new Promise<string>((resolve, reject) => {
      // No agent: the request must use our socket, not dial host:port itself.
      const req = http.request({ method: 'GET', path: `${u.pathname}${u.search}`, headers: { host: u.host, accept: 'text/plain', 'user-agent': 'ambit-dashboard/1' }, createConnection: () => sock });
      const onAbort = (): void => {
        req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`));
      };
      ac.signal.addEventListener('abort', onAbort, { once: true });
      req.once('error', (err) => reject(new Error(describe(err))));
      req.once('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          req.destroy();
          return reject(new Error(`HTTP ${res.statusCode}`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > opts.maxBytes) req.destroy(new Error(`body over ${opts.maxBytes} bytes`));
          else chunks.push(c);
        });
        res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.once('error', (err) => reject(new Error(describe(err))));
      });
      req.end();
    }).finally(() => sock.destroy());
  } finally {
    clearTimeout(timer);
  }
}
