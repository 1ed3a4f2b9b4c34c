// HTTP GETs to the admin, metrics and status ports of the local runtime's processes. Those listen
// on loopback addresses of some network namespace: the agents and the control plane in the
// runtime's own (the host's, when `up` ran there), a waypoint inside its pod's. When that is not
// ours, the connection is made from inside it (common/net/netns-dial.ts, as the runtime's
// readiness probes do), so no process is spawned and nothing is entered but the one socket.
import http from 'node:http';
import type net from 'node:net';
import { dialInNetns } from '../../common/net/netns-dial';
import { netnsIdentity } from '../../common/sandbox';
import { CliError, CliErrorCodes } from './errors';

export interface HttpTarget {
  host: string;
  port: number;
  /** A netns file (/run/netns/<name>, /proc/<pid>/ns/net); omitted: ours. */
  netnsPath?: string;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

function sameNetns(p: string): boolean {
  const a = netnsIdentity('/proc/self/ns/net');
  const b = netnsIdentity(p);
  return a.dev === b.dev && a.ino === b.ino;
}

/** A connection to the target from inside `netnsPath`, its failures said for the CLI's user. */
async function connectIn(netnsPath: string, target: HttpTarget, url: string, timeoutMs: number): Promise<net.Socket> {
  try {
    return await dialInNetns(netnsPath, target.host, target.port, { timeoutMs });
  } catch (e) {
    const { code, syscall } = e as NodeJS.ErrnoException;
    if (syscall === 'open') {
      if (code === 'EACCES' || code === 'EPERM') throw new CliError(CliErrorCodes.NOT_ROOT, `${netnsPath} is readable by root only; run with sudo`);
      throw new CliError(CliErrorCodes.UNREACHABLE, `cannot open network namespace ${netnsPath}: ${code ?? (e as Error).message}`);
    }
    if (syscall === 'connect') throw unreachable(url, e as Error);
    if (code === 'EPERM') throw new CliError(CliErrorCodes.NOT_ROOT, `entering network namespace ${netnsPath} needs root; run with sudo`);
    throw e;
  }
}

/** GET http://host:port<path>; UNREACHABLE when nothing answers within `timeoutMs`. */
export async function httpGet(target: HttpTarget, urlPath: string, timeoutMs = 5_000): Promise<HttpAnswer> {
  const url = `http://${target.host}:${target.port}${urlPath}`;
  const inOther = target.netnsPath !== undefined && !sameNetns(target.netnsPath);
  const sock = inOther ? await connectIn(target.netnsPath!, target, url, timeoutMs) : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: target.host,
      port: target.port,
      path: urlPath,
      method: 'GET',
      headers: { 'user-agent': 'ambit-cli' },
      timeout: timeoutMs,
      // With our own (connected) socket, no agent: Node would otherwise dial host:port itself, from our netns.
      ...(sock ? { createConnection: () => sock } : { agent: false }),
    });
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.once('error', (e) => reject(unreachable(url, e)));
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', (e) => reject(unreachable(url, e)));
    req.end();
  });
}

const unreachable = (url: string, e: Error): CliError =>
  new CliError(CliErrorCodes.UNREACHABLE, `${url} did not answer (${(e as NodeJS.ErrnoException).code ?? e.message})`, { cause: e });

/** GET, expecting 200 and a JSON body. */
export async function getJson<T>(target: HttpTarget, urlPath: string, timeoutMs?: number): Promise<T> {
  const r = await httpGet(target, urlPath, timeoutMs);
  if (r.status !== 200) throw new CliError(CliErrorCodes.UNREACHABLE, `http://${target.host}:${target.port}${urlPath} answered ${r.status}: ${r.body.trim().slice(0, 200)}`);
  try {
    return JSON.parse(r.body) as T;
  } catch {
    throw new CliError(CliErrorCodes.UNREACHABLE, `http://${target.host}:${target.port}${urlPath} did not answer JSON`);
  }
}
