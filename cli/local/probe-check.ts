// One readiness check, done the way the kubelet does it: from the node, to the pod's IP. The
// socket is created inside the node's network namespace (common/net/netns-dial.ts), so no process
// is spawned per probe and nothing runs in the host's netns but the call itself.
//   httpGet    GET http(s)://<podIP>:<port><path>; 200-399 is success (kubelet), TLS unverified
//   tcpSocket  a TCP connection is established
//   exec       the command exits 0 inside the pod (netns + cgroup)
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { ContainerPort, Probe } from '../../control-plane/kube/objects';
import { dialInNetns } from '../../common/net/netns-dial';
import { execIn, type CleanupStack, type Placement } from '../../common/sandbox';

export interface ProbeResult {
  ok: boolean;
  /** What happened, for status and logs: "HTTP 200", "connect ECONNREFUSED", "timeout after 1000 ms". */
  detail: string;
}

export interface ProbeContext {
  /** An open fd of the node's network namespace. */
  nodeNetnsFd: number;
  podIP: string;
  /** The container's ports, to resolve a named probe port. */
  ports: readonly ContainerPort[];
  /** The pod, for exec probes. */
  pod: Placement & { cleanup: CleanupStack };
}

/** The numeric port of a probe: a number, or the name of one of the container's ports. */
export function resolveProbePort(port: number | string, ports: readonly ContainerPort[]): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return ports.find((p) => p.name === port)?.containerPort;
}

/** A TCP socket connected to the pod's port from inside the node netns; rejects on error. */
function dialFromNode(ctx: ProbeContext, port: number, signal: AbortSignal): Promise<net.Socket> {
  return dialInNetns(ctx.nodeNetnsFd, ctx.podIP, port, { signal });
}

function httpGet(ctx: ProbeContext, get: NonNullable<Probe['httpGet']>, port: number, signal: AbortSignal): Promise<ProbeResult> {
  return dialFromNode(ctx, port, signal).then(
    (sock) =>
      new Promise<ProbeResult>((resolve) => {
        const headers: Record<string, string> = { 'user-agent': 'ambit-local-probe/1', accept: '*/*' };
        for (const h of get.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
        headers.host ??= net.isIPv6(ctx.podIP) ? `[${ctx.podIP}]:${port}` : `${ctx.podIP}:${port}`;
        // No `agent`: with one, Node would dial host:port itself instead of using our socket.
        const conn = get.scheme === 'HTTPS' ? tls.connect({ socket: sock, rejectUnauthorized: false }) : sock;
        const req = http.request({ method: 'GET', path: get.path ?? '/', headers, createConnection: () => conn });
        signal.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
        req.once('response', (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve({ ok: code >= 200 && code < 400, detail: `HTTP ${code}` });
          req.destroy();
        });
        req.once('error', (err) => resolve({ ok: false, detail: `GET ${get.path ?? '/'}: ${(err as NodeJS.ErrnoException).code ?? err.message}` }));
        req.end();
      }),
  );
}

async function check(probe: Probe, ctx: ProbeContext, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  if (probe.exec !== undefined) {
    const [cmd, ...args] = probe.exec.command;
    const r = await execIn(ctx.pod, ctx.pod.cleanup, cmd, args, { timeoutMs });
    return { ok: r.code === 0, detail: `exit ${r.code ?? r.signal}` };
  }
  const handler = probe.httpGet ?? probe.tcpSocket;
  if (handler === undefined) return { ok: false, detail: 'the probe has no httpGet, tcpSocket or exec handler' };
  const port = resolveProbePort(handler.port, ctx.ports);
  if (port === undefined) return { ok: false, detail: `the container has no port named "${handler.port}"` };
  if (probe.httpGet !== undefined) return httpGet(ctx, probe.httpGet, port, signal);
  const sock = await dialFromNode(ctx, port, signal);
  sock.destroy();
  return { ok: true, detail: `connected to ${port}` };
}

/** Runs `probe` once; never rejects (a failure is a result), never outlives `timeoutMs`. */
export async function runProbe(probe: Probe, ctx: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => {
      ac.abort();
      resolve({ ok: false, detail: `timeout after ${timeoutMs} ms` });
    }, timeoutMs);
  });
  const attempt = check(probe, ctx, timeoutMs, ac.signal).catch(
    (err: NodeJS.ErrnoException): ProbeResult => ({ ok: false, detail: `${err.syscall ?? 'probe'} ${err.code ?? err.message}` }),
  );
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}
