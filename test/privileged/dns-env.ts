/**
 * Helpers for the DNS capture tests: DNS clients and a DNS app server run
 * inside pods (node -e scripts using dns-packet), and processes that see a
 * pod's own /etc/resolv.conf. Pods share the machine's mount namespace, so the
 * pod's resolv.conf and nsswitch.conf are bind-mounted over /etc in a private
 * mount namespace (unshare --mount) of the one process that needs them: the
 * machine's files are never touched, and the mounts end with the process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defer, waitForLine, type CleanupHandle, type ExecResult, type Pod } from '../harness';

const DNS_PACKET = require.resolve('dns-packet');

/**
 * argv: mode (udp | udp-connected | tcp), server, port, name, type, timeoutMs, socketType (udp4|udp6).
 * Prints one JSON line: {rcode, tc, aa, answers: [{type, name, data}], from, remote, tookMs} or {error}.
 */
const DNS_CLIENT = `
const dgram = require('dgram'), net = require('net'), dns = require(${JSON.stringify(DNS_PACKET)});
const [mode, server, port, name, type, timeoutMs, socketType] = process.argv.slice(1);
const started = Date.now();
const q = dns.encode({ type: 'query', id: 4242, flags: dns.RECURSION_DESIRED, questions: [{ name, type }] });
const done = (out) => { console.log(JSON.stringify({ ...out, tookMs: Date.now() - started })); process.exit(0); };
const parse = (buf, extra) => {
  const p = dns.decode(buf);
  done({ id: p.id, rcode: p.rcode, tc: p.flag_tc, aa: p.flag_aa,
    answers: p.answers.map((a) => ({ type: a.type, name: a.name, data: a.data })), ...extra });
};
setTimeout(() => done({ error: 'timeout' }), Number(timeoutMs));
if (mode === 'tcp') {
  const s = net.connect(Number(port), server, () => { const l = Buffer.alloc(2); l.writeUInt16BE(q.length); s.write(Buffer.concat([l, q])); });
  let buf = Buffer.alloc(0);
  s.on('data', (d) => { buf = Buffer.concat([buf, d]); if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) parse(buf.subarray(2, 2 + buf.readUInt16BE(0)), { remote: s.remoteAddress }); });
  s.on('error', (e) => done({ error: e.code }));
} else {
  const s = dgram.createSocket(socketType || 'udp4');
  s.on('error', (e) => done({ error: e.code }));
  s.on('message', (m, rinfo) => parse(m, { from: { address: rinfo.address, port: rinfo.port },
    remote: mode === 'udp-connected' ? s.remoteAddress() : undefined }));
  if (mode === 'udp-connected') s.connect(Number(port), server, () => s.send(q));
  else s.send(q, Number(port), server);
}
`;

/** argv: host, port. Answers every A query with 192.0.2.253 (an app's own DNS server in a pod). */
const APP_DNS_SERVER = `
const dgram = require('dgram'), net = require('net'), dns = require(${JSON.stringify(DNS_PACKET)});
const [host, port] = process.argv.slice(1);
const s = dgram.createSocket(net.isIP(host) === 6 ? 'udp6' : 'udp4');
s.on('message', (m, r) => {
  const q = dns.decode(m);
  s.send(dns.encode({ type: 'response', id: q.id, questions: q.questions,
    answers: [{ type: 'A', name: q.questions[0].name, ttl: 5, data: '192.0.2.253' }] }), r.port, r.address);
});
s.bind(Number(port), host, () => console.log('"listening"'));
`;

export interface DnsClientResult {
  id?: number;
  rcode?: string;
  tc?: boolean;
  aa?: boolean;
  answers?: Array<{ type: string; name: string; data: string }>;
  from?: { address: string; port: number };
  /** The peer a connected socket reports (getpeername), or the TCP remote address. */
  remote?: { address: string; port: number } | string;
  error?: string;
  tookMs: number;
}

export interface DnsClientOptions {
  mode?: 'udp' | 'udp-connected' | 'tcp';
  server: string;
  port?: number;
  name: string;
  type?: 'A' | 'AAAA' | 'TXT';
  timeoutMs?: number;
  socketType?: 'udp4' | 'udp6';
}

/** One DNS query from inside `pod`, the way an app sends it. */
export async function dnsQueryFrom(pod: Pod, o: DnsClientOptions): Promise<DnsClientResult> {
  const args = [o.mode ?? 'udp', o.server, String(o.port ?? 53), o.name, o.type ?? 'A', String(o.timeoutMs ?? 5000), o.socketType ?? 'udp4'];
  const r = await pod.exec(process.execPath, ['-e', DNS_CLIENT, ...args], { timeoutMs: (o.timeoutMs ?? 5000) + 5000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`dns client in ${pod.name} printed nothing useful: ${r.stderr || r.stdout}`);
  return JSON.parse(line) as DnsClientResult;
}

/** An app's own DNS server in `pod` on host:port (answers A 192.0.2.253); resolves once it listens. */
export async function startAppDnsServer(pod: Pod, host: string, port = 53): Promise<void> {
  const child = pod.spawn(process.execPath, ['-e', APP_DNS_SERVER, host, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(child, '"listening"');
}

/** A pod's /etc/resolv.conf (and an nsswitch.conf of `hosts: files dns`), in a temporary directory. */
export class PodResolvConf {
  private constructor(
    readonly dir: string,
    private readonly cleanup: CleanupHandle,
  ) {}

  static create(resolvConf: string): PodResolvConf {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-dns-'));
    const remove = () => fs.rmSync(dir, { recursive: true, force: true });
    const cleanup = defer(`resolv.conf directory ${dir}`, remove, { sync: remove });
    fs.writeFileSync(path.join(dir, 'resolv.conf'), resolvConf);
    // glibc's own lookup order; "files dns" so nothing but the pod's resolv.conf decides.
    fs.writeFileSync(path.join(dir, 'nsswitch.conf'), 'hosts: files dns\n');
    return new PodResolvConf(dir, cleanup);
  }

  /** Remove the directory (jest runs no process exit hooks: call it from afterAll). Idempotent. */
  remove(): Promise<void> {
    return this.cleanup.run();
  }

  /** Runs cmd in `pod` with the pod's resolv.conf and nsswitch.conf in a private mount namespace. */
  exec(pod: Pod, cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<ExecResult> {
    const script = 'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/nsswitch.conf && shift 2 && exec "$@"';
    return pod.exec(
      'unshare',
      ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', path.join(this.dir, 'resolv.conf'), path.join(this.dir, 'nsswitch.conf'), cmd, ...args],
      { timeoutMs },
    );
  }

  /** `getent hosts <name>` in the pod: the unmodified glibc resolver path an app takes. */
  async getent(pod: Pod, name: string, timeoutMs = 10_000): Promise<{ code: number | null; lines: string[]; tookMs: number; stderr: string }> {
    const started = Date.now();
    const r = await this.exec(pod, 'getent', ['hosts', name], timeoutMs);
    return {
      code: r.code,
      lines: r.stdout.trim().split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/).join(' ')),
      tookMs: Date.now() - started,
      stderr: r.stderr,
    };
  }
}
