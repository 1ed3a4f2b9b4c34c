// HTTP GETs to the admin, metrics and status ports of the local runtime's processes. Those listen
// on loopback addresses of some network namespace: the agents and the control plane in the
// runtime's own (the host's, when `up` ran there), a waypoint inside its pod's. When that is not
// ours, the socket is created inside it through the addon's socket factory (as the runtime's
// readiness probes do), so no process is spawned and nothing is entered but the one socket.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
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

async function socketIn(netnsPath: string, host: string): Promise<net.Socket> {
  // Loaded only here: reading files needs no native addon.
  const { Native } = await import('../../common/native/addon');
  let fd: number;
  try {
    fd = fs.openSync(netnsPath, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new CliError(CliErrorCodes.NOT_ROOT, `${netnsPath} is readable by root only; run with sudo`);
    throw new CliError(CliErrorCodes.UNREACHABLE, `cannot open network namespace ${netnsPath}: ${code ?? (e as Error).message}`);
  }
  try {
    const sockFd = await Native.createSocket({ netnsFd: fd, family: net.isIPv6(host) ? 6 : 4 });
    return new net.Socket({ fd: sockFd });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPERM') throw new CliError(CliErrorCodes.NOT_ROOT, `entering network namespace ${netnsPath} needs root; run with sudo`);
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}

/** GET http://host:port<path>; UNREACHABLE when nothing answers within `timeoutMs`. */
export async function httpGet(target: HttpTarget, urlPath: string, timeoutMs = 5_000): Promise<HttpAnswer> {
  const url = `http://${target.host}:${target.port}${urlPath}`;
  const inOther = target.netnsPath !== undefined && !sameNetns(target.netnsPath);
  const sock = inOther ? await socketIn(target.netnsPath!, target.host) : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: target.host,
      port: target.port,
      path: urlPath,
      method: 'GET',
      headers: { 'user-agent': 'ambit-cli' },
      timeout: timeoutMs,
      // With our own socket, no agent: Node would otherwise dial host:port itself, from our netns.
      ...(sock ? { createConnection: () => sock.connect(target.port, target.host) } : { agent: false }),
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
