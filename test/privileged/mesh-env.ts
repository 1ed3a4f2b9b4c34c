/**
 * Helpers for agent-mesh.test.ts: the YAML directory it runs (`ambit local up -f`), small Node
 * scripts run inside pods (as unmodified apps would connect), a tcpdump on a node's link and a
 * minimal pcap reader, and readers for the agents' metrics and access logs.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { StatusDoc } from '../../cli/local/runtime-record';
import { execIn, type CleanupStack, type ExecResult } from '../../common/sandbox';

export type PodView = StatusDoc['pods'][number];

// ---------------------------------------------------------------------------------------------
// The YAML directory

/** HTTP on 8080 (answers who it is) and a raw TCP echo on 9000; both on every address. */
export const ECHO_APP = `'use strict';
const http = require('node:http');
const net = require('node:net');
const who = { pod: process.env.POD_NAME, node: process.env.NODE_NAME, podIP: process.env.POD_IP };
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200); res.end('ok\\n'); return; }
  let bytes = 0;
  req.on('data', (d) => (bytes += d.length));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...who, path: req.url, bytes }) + '\\n');
  });
});
server.listen({ port: 8080, host: '::' }, () => console.log(JSON.stringify({ event: 'listening', ...who })));
const echo = net.createServer((s) => { s.on('error', () => {}); s.pipe(s); });
echo.listen({ port: 9000, host: '::' });
// Only some replicas serve the extra port: a Service on it has endpoints that refuse connections.
if (process.env.EXTRA_PORT) http.createServer((req, res) => res.end(JSON.stringify({ ...who, port: Number(process.env.EXTRA_PORT) }) + '\\n')).listen({ port: Number(process.env.EXTRA_PORT), host: '::' });
process.on('SIGTERM', () => process.exit(0));
`;

const serverPod = (name: string, node: string, restartPolicy: string, extraPort?: number): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: mesh
  labels: { app: echo }
spec:
  nodeName: ${node}
  serviceAccountName: server
  restartPolicy: ${restartPolicy}
  containers:
    - name: echo
      command: [node, app/echo.js]
      env:
        - { name: EXTRA_PORT, value: "${extraPort ?? ''}" }
      ports:
        - { name: http, containerPort: 8080 }
        - { name: tcp-echo, containerPort: 9000 }
      readinessProbe:
        httpGet: { path: /healthz, port: 8080 }
        periodSeconds: 1
        failureThreshold: 2
`;

const SLEEPER = `      command: [node, -e, "setInterval(() => {}, 1e6)"]`;

export const MESH_YAML: Record<string, string> = {
  'namespaces.yaml': `apiVersion: v1
kind: Namespace
metadata:
  name: mesh
  labels: { istio.io/dataplane-mode: ambient }
---
apiVersion: v1
kind: Namespace
metadata:
  name: plain
`,
  'accounts.yaml': `apiVersion: v1
kind: ServiceAccount
metadata: { name: server, namespace: mesh }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: client, namespace: mesh }
`,
  'service.yaml': `apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: mesh
spec:
  selector: { app: echo }
  ports:
    - { name: http, port: 80, targetPort: 8080 }
    - { name: tcp-echo, port: 9000, targetPort: 9000 }
---
apiVersion: v1
kind: Service
metadata:
  name: failover
  namespace: mesh
spec:
  selector: { app: echo }
  ports:
    - { name: http, port: 7070, targetPort: 7070 }
`,
  // server-b is killed by the test and must stay down: restartPolicy Never.
  // Only server-a listens on 7070, the port of Service `failover`.
  'server-a.yaml': serverPod('server-a', 'node2', 'Always', 7070),
  'server-b.yaml': serverPod('server-b', 'node1', 'Never'),
  'client.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: mesh
  labels: { app: client }
spec:
  nodeName: node1
  serviceAccountName: client
  containers:
    - name: client
${SLEEPER}
`,
  'outsider.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: outsider
  namespace: plain
  labels: { app: outsider }
spec:
  nodeName: node1
  containers:
    - name: outsider
${SLEEPER}
`,
};

export const peerAuthenticationYaml = (mode: 'STRICT' | 'PERMISSIVE'): string => `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: mesh-mtls
  namespace: mesh
spec:
  mtls:
    mode: ${mode}
`;

/** Writes the directory: the YAML files and app/echo.js. */
export function writeMeshConfig(dir: string): void {
  fs.mkdirSync(path.join(dir, 'app'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'app', 'echo.js'), ECHO_APP);
  for (const [file, text] of Object.entries(MESH_YAML)) fs.writeFileSync(path.join(dir, file), text);
}

// ---------------------------------------------------------------------------------------------
// Scripts run inside pods

/** argv: url, count. One new TCP connection per GET; prints [{status, pod} | {error}]. */
const HTTP_MANY = `
const http = require('http');
const [url, count] = process.argv.slice(1);
(async () => {
  const out = [];
  for (let i = 0; i < Number(count); i++) {
    out.push(await new Promise((resolve) => {
      const req = http.get(url, { agent: false, timeout: 8000 }, (r) => {
        let b = '';
        r.on('data', (d) => (b += d));
        r.on('end', () => { let j = {}; try { j = JSON.parse(b); } catch {} resolve({ status: r.statusCode, ...j }); });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ error: e.code || e.message }));
    }));
  }
  console.log(JSON.stringify(out));
})();
`;

/** argv: host, port, message. Sends it, half-closes, prints {echoed} once the server closed. */
const TCP_EXCHANGE = `
const net = require('net');
const [host, port, message] = process.argv.slice(1);
const s = net.connect(Number(port), host);
let got = '';
s.setTimeout(8000, () => s.destroy(new Error('timeout')));
s.on('connect', () => s.end(message));
s.on('data', (d) => (got += d));
s.on('close', () => console.log(JSON.stringify({ echoed: got })));
s.on('error', (e) => { console.log(JSON.stringify({ error: e.code || e.message, echoed: got })); process.exit(0); });
`;

/** The pod's netns and cgroup: its traffic is captured when it is enrolled. */
export const placementOf = (pod: PodView): { netnsPath: string; cgroupPath: string } => ({
  netnsPath: `/run/netns/${pod.netns}`,
  cgroupPath: pod.cgroupPath!,
});

function lastJsonLine<T>(r: ExecResult, what: string): T {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{') && !line.startsWith('[')) throw new Error(`${what} printed nothing useful (code ${r.code}): ${r.stderr || r.stdout}`);
  return JSON.parse(line) as T;
}

export interface HttpAnswer {
  status?: number;
  pod?: string;
  node?: string;
  path?: string;
  error?: string;
}

export async function httpFromPod(pod: PodView, url: string, count: number, cleanup: CleanupStack): Promise<HttpAnswer[]> {
  const r = await execIn(placementOf(pod), cleanup, process.execPath, ['-e', HTTP_MANY, url, String(count)], { timeoutMs: 10_000 + count * 9_000 });
  return lastJsonLine<HttpAnswer[]>(r, `GET ${url} from ${pod.name}`);
}

export async function tcpExchangeFromPod(pod: PodView, host: string, port: number, message: string, cleanup: CleanupStack): Promise<{ echoed: string; error?: string }> {
  const r = await execIn(placementOf(pod), cleanup, process.execPath, ['-e', TCP_EXCHANGE, host, String(port), message], { timeoutMs: 15_000 });
  return lastJsonLine(r, `TCP exchange with ${host}:${port} from ${pod.name}`);
}

/** Runs a node script inside the pod; prints one JSON line. */
export async function nodeScriptInPod<T>(pod: PodView, script: string, args: string[], cleanup: CleanupStack, timeoutMs = 20_000): Promise<T> {
  const r = await execIn(placementOf(pod), cleanup, process.execPath, ['-e', script, ...args], { timeoutMs });
  return lastJsonLine<T>(r, `script in ${pod.name}`);
}

/** The machine's nameservers (pods share /etc/resolv.conf: they share the mount namespace). */
export function machineNameservers(): string[] {
  return fs
    .readFileSync('/etc/resolv.conf', 'utf8')
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);
}

const onLoopback = (ip: string): boolean => ip.startsWith('127.') || ip === '::1';

/**
 * Runs `cmd` in the pod as an app resolving names would. When the machine's first nameserver is
 * on loopback (systemd-resolved's 127.0.0.53, say) a pod would still be captured, but the test
 * then bind-mounts a resolv.conf naming an address outside loopback in a private mount namespace
 * of that one process (as dns-env.ts does), so the answer can only come through the capture.
 */
export async function execResolving(pod: PodView, cleanup: CleanupStack, dir: string, cmd: string, args: string[], timeoutMs = 15_000): Promise<ExecResult> {
  const first = machineNameservers()[0];
  if (first !== undefined && !onLoopback(first)) return execIn(placementOf(pod), cleanup, cmd, args, { timeoutMs });
  const resolv = path.join(dir, 'resolv.conf');
  const nsswitch = path.join(dir, 'nsswitch.conf');
  fs.writeFileSync(resolv, 'nameserver 198.19.255.53\n');
  fs.writeFileSync(nsswitch, 'hosts: files dns\n');
  const script = 'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/nsswitch.conf && shift 2 && exec "$@"';
  return execIn(placementOf(pod), cleanup, 'unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', resolv, nsswitch, cmd, ...args], { timeoutMs });
}

// ---------------------------------------------------------------------------------------------
// Agents: metrics, access log, admin

export function httpText(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (r) => {
      let body = '';
      r.setEncoding('utf8').on('data', (d: string) => (body += d));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
  });
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition -> samples. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of `name` over samples whose labels include `match`. */
export function metricSum(samples: Sample[], name: string, match: Record<string, string>): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

export type LogLine = Record<string, unknown> & { msg?: string };

/** The agent's JSON log lines (non-JSON lines skipped). */
export function readLog(file: string): LogLine[] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a line being written
    }
  }
  return out;
}

export const accessLines = (file: string): LogLine[] => readLog(file).filter((l) => l.msg === 'connection complete');

// ---------------------------------------------------------------------------------------------
// tcpdump on a node's link, and a small pcap reader

export interface Capture {
  child: ChildProcess;
  file: string;
  stop(): Promise<void>;
}

/** tcpdump -w `file` on `dev` inside netns `netns`; resolves once it is listening. */
export async function startTcpdump(netns: string, dev: string, file: string, cleanup: CleanupStack): Promise<Capture> {
  // `ip netns exec` setns()es and execs tcpdump in place: child.pid is tcpdump's pid.
  // --immediate-mode: without it packets wait in a TPACKET_V3 block until its ~1 s timeout, and
  // those of a block not yet handed over when SIGINT arrives are lost.
  const child = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-i', dev, '-n', '--immediate-mode', '-U', '-s', '0', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle = cleanup.defer(`tcpdump pid ${child.pid}`, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start listening within 10 s: ${err}`)), 10_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited (${code}) before listening: ${err}`));
    });
  });
  return {
    child,
    file,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT'); // flushes and exits
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      handle.cancel();
    },
  };
}

export interface Packet {
  src: string;
  dst: string;
  proto: number;
  sport: number;
  dport: number;
  /** TCP flags byte (SYN 0x02, ACK 0x10, ...). */
  flags: number;
  payload: Buffer;
}

const ipv6String = (b: Buffer): string => {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(i).toString(16));
  // Compress the longest run of zero groups, as Node prints addresses.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return parts.join(':');
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
};

/** IPv4/IPv6 TCP and UDP packets of a classic pcap file with Ethernet frames. */
export function readPcap(file: string): Packet[] {
  const buf = fs.readFileSync(file);
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file} is not a pcap file`);
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20);
  if (linkType !== 1) throw new Error(`${file}: link type ${linkType}, expected Ethernet (1)`);
  const out: Packet[] = [];
  for (let off = 24; off + 16 <= buf.length; ) {
    const incl = u32(off + 8);
    const frame = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (frame.length < 14) continue;
    let etherType = frame.readUInt16BE(12);
    let l3 = 14;
    if (etherType === 0x8100) {
      etherType = frame.readUInt16BE(16);
      l3 = 18;
    }
    let src: string;
    let dst: string;
    let proto: number;
    let l4: number;
    let end: number;
    if (etherType === 0x0800) {
      const ihl = (frame[l3] & 0x0f) * 4;
      proto = frame[l3 + 9];
      src = [...frame.subarray(l3 + 12, l3 + 16)].join('.');
      dst = [...frame.subarray(l3 + 16, l3 + 20)].join('.');
      l4 = l3 + ihl;
      end = l3 + frame.readUInt16BE(l3 + 2);
    } else if (etherType === 0x86dd) {
      proto = frame[l3 + 6];
      src = ipv6String(frame.subarray(l3 + 8, l3 + 24));
      dst = ipv6String(frame.subarray(l3 + 24, l3 + 40));
      l4 = l3 + 40;
      end = l4 + frame.readUInt16BE(l3 + 4);
    } else {
      continue;
    }
    end = Math.min(end, frame.length);
    if (proto === 6 && l4 + 20 <= end) {
      const dataOff = (frame[l4 + 12] >> 4) * 4;
      out.push({ src, dst, proto, sport: frame.readUInt16BE(l4), dport: frame.readUInt16BE(l4 + 2), flags: frame[l4 + 13], payload: frame.subarray(l4 + dataOff, end) });
    } else if (proto === 17 && l4 + 8 <= end) {
      out.push({ src, dst, proto, sport: frame.readUInt16BE(l4), dport: frame.readUInt16BE(l4 + 2), flags: 0, payload: frame.subarray(l4 + 8, end) });
    } else {
      out.push({ src, dst, proto, sport: 0, dport: 0, flags: 0, payload: Buffer.alloc(0) });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` (sync or async) until it returns something other than undefined/false. */
export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${(lastErr as Error).message})` : ''}`);
    }
    await sleep(everyMs);
  }
}
