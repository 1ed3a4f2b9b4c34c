/**
 * The DNS proxy's sockets inside one pod: UDP and TCP on 127.0.0.1:15053 (and
 * [::1]:15053 when the pod has IPv6 loopback), created in the pod's network
 * namespace through the addon's socket factory, marked as agent sockets, and
 * served by this process. cgroup/connect4|6 and sendmsg4|6 bring the pod's
 * port-53 traffic here; each message goes through handleDnsMessage().
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { Native } from '../../common/native/addon';
import { silentLogger, type Logger } from '../../common/log';
import { AGENT_SOCKET_MARK, Ports } from '../../common/ports';
import { DnsError, DnsErrorCodes } from './errors';
import { handleDnsMessage, type DnsHandlerContext } from './dns-handler';
import { FrameReader, frame } from './tcp-framing';

/** RFC 7766 section 6.2.3: close idle DNS-over-TCP connections; ztunnel uses 5 s. */
const TCP_IDLE_MS = 5_000;
/** Queries of one pod handled at once, per transport; more are dropped (UDP) or wait (TCP reads pause). */
const MAX_IN_FLIGHT = 1024;
const MAX_TCP_CONNECTIONS = 256;
/** RFC 7766 section 6.2.1.1 pipelining: queries in flight per TCP connection before reads pause. */
const MAX_TCP_PIPELINE = 64;

export interface PodDnsServerOptions {
  /** The pod's network namespace (the caller keeps it open while the server runs). */
  netnsFd: number;
  /** Also listen on [::1] (default true; skipped quietly when the pod has no IPv6 loopback). */
  ipv6?: boolean;
  /** Default 15053 (Ports.dns). */
  port?: number;
  /** Default AGENT_SOCKET_MARK. */
  mark?: number;
  /** Where each message goes; carries the pod's namespace, lookup and upstream. */
  handler: DnsHandlerContext;
  logger?: Logger;
}

export interface PodDnsServer {
  /** Addresses served, e.g. ['udp 127.0.0.1:15053', 'tcp 127.0.0.1:15053', ...]. */
  readonly listening: readonly string[];
  /** Stop serving and close the pod's sockets (in-flight TCP queries are cut). Idempotent. */
  close(): Promise<void>;
}

interface Bound {
  udp: dgram.Socket;
  tcp: net.Server;
}

export async function startPodDnsServer(opts: PodDnsServerOptions): Promise<PodDnsServer> {
  const port = opts.port ?? Ports.dns;
  const mark = opts.mark ?? AGENT_SOCKET_MARK;
  const log = (opts.logger ?? silentLogger).child({ component: 'dns', pod: opts.handler.pod, namespace: opts.handler.namespace });
  const bound: Bound[] = [];
  const listening: string[] = [];
  const tcpSockets = new Set<net.Socket>();
  let inFlight = 0;
  let closed = false;

  const serveUdp = (udp: dgram.Socket) => {
    udp.on('message', (msg, rinfo) => {
      if (inFlight >= MAX_IN_FLIGHT) return; // the client retries; better than queueing without bound
      inFlight++;
      void handleDnsMessage(msg, 'udp', opts.handler)
        .then((out) => {
          // The pod may have gone while the upstream was asked: then there is no one to answer.
          if (out && !closed) udp.send(out, rinfo.port, rinfo.address, (err) => err && log.debug({ err: err.message }, 'dns udp send failed'));
        })
        .catch((err: Error) => log.debug({ err: err.message }, 'dns udp answer not sent'))
        .finally(() => inFlight--);
    });
    udp.on('error', (err) => log.warn({ err: err.message }, 'dns udp socket error'));
  };

  const serveTcp = (conn: net.Socket) => {
    if (tcpSockets.size >= MAX_TCP_CONNECTIONS) {
      conn.destroy();
      return;
    }
    tcpSockets.add(conn);
    const reader = new FrameReader();
    let open = 0;
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    conn.on('error', () => conn.destroy());
    conn.on('close', () => tcpSockets.delete(conn));
    conn.on('data', (chunk: Buffer) => {
      for (const msg of reader.push(chunk)) {
        open++;
        if (open >= MAX_TCP_PIPELINE) conn.pause();
        void handleDnsMessage(msg, 'tcp', opts.handler)
          .then((out) => {
            if (out && !conn.destroyed) conn.write(frame(out));
            else if (!out) conn.destroy(); // a client that sends garbage loses the connection
          })
          .catch(() => conn.destroy())
          .finally(() => {
            open--;
            if (conn.isPaused() && open < MAX_TCP_PIPELINE) conn.resume();
          });
      }
    });
  };

  const bind = async (family: 4 | 6, address: string): Promise<void> => {
    const udpFd = await Native.createSocket({ netnsFd: opts.netnsFd, family, type: 'udp', address, port, mark });
    let tcpFd: number;
    try {
      tcpFd = await Native.createSocket({ netnsFd: opts.netnsFd, family, address, port, listen: true, mark });
    } catch (e) {
      fs.closeSync(udpFd);
      throw e;
    }
    // From here the fds belong to Node's handles, which close them.
    const udp = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    const tcp = net.createServer(serveTcp);
    try {
      await new Promise<void>((resolve, reject) => udp.once('error', reject).bind({ fd: udpFd }, () => resolve()));
      await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen({ fd: tcpFd }, () => resolve()));
    } catch (e) {
      udp.close();
      tcp.close();
      throw e;
    }
    udp.removeAllListeners('error');
    tcp.removeAllListeners('error');
    tcp.on('error', (err) => log.warn({ err: err.message }, 'dns tcp listener error'));
    serveUdp(udp);
    bound.push({ udp, tcp });
    const where = family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
    listening.push(`udp ${where}`, `tcp ${where}`);
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const s of tcpSockets) s.destroy();
    await Promise.all(
      bound.map(
        (b) =>
          new Promise<void>((resolve) => {
            b.udp.close(() => b.tcp.close(() => resolve()));
          }),
      ),
    );
  };

  try {
    await bind(4, '127.0.0.1');
    if (opts.ipv6 !== false) {
      try {
        await bind(6, '::1');
      } catch (e) {
        const code = (e as { code?: string }).code;
        // A pod with IPv6 disabled has no ::1 (ztunnel downgrades the same way).
        if (code !== 'EADDRNOTAVAIL' && code !== 'EAFNOSUPPORT') throw e;
        log.debug({ code }, 'no IPv6 loopback in the pod; DNS proxy serves IPv4 only');
      }
    }
  } catch (e) {
    await close();
    throw new DnsError(DnsErrorCodes.BIND, `cannot open the DNS proxy sockets in the pod: ${(e as Error).message}`, { cause: e });
  }
  log.debug({ listening }, 'dns proxy listening in pod');
  return { listening, close };
}
