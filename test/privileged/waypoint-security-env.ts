/**
 * What waypoint-security.test.ts needs besides the waypoint world (waypoint-env.ts):
 *
 * - TestIssuer: an ES256 key made per run with jose; its public JWK goes inline into a
 *   RequestAuthentication and it signs the tokens the client pod sends (valid, expired, wrong
 *   issuer, wrong audience, tampered).
 * - Prometheus: the Debian `prometheus` server (installed when missing), run in a node's network
 *   namespace and host cgroup (reaches pod IPs, not captured), scraping the waypoint pod's :15020,
 *   queried over its HTTP API from inside that namespace. Killed by pid, its directory removed, by
 *   the world's CleanupStack.
 * - Scripts run inside a pod: raw TCP bytes (malformed HTTP/1, broken HTTP/2 frames) and an HTTP/2
 *   rapid-reset flood (node:http2, prior knowledge).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';
import { execIn, killChild, spawnIn, type CleanupStack, type Placement } from '../../common/sandbox';
import type { StatusDoc } from '../../cli/local/runtime-record';
import { until } from './mesh-env';

export const PROMETHEUS = '/usr/bin/prometheus';

/** An issuer whose signing key is made now; `jwks` is its public half, as RequestAuthentication takes it inline. */
export class TestIssuer {
  private constructor(
    readonly issuer: string,
    readonly jwks: string,
    private readonly key: KeyLike,
    private readonly otherKey: KeyLike,
  ) {}

  static async create(issuer: string): Promise<TestIssuer> {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const other = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'e2e-1', alg: 'ES256', use: 'sig' };
    return new TestIssuer(issuer, JSON.stringify({ keys: [jwk] }), pair.privateKey, other.privateKey);
  }

  /** A token for `sub` valid for ten minutes, with `claims` on top (they may override iss/aud/exp). */
  sign(claims: JWTPayload = {}, opts: { withOtherKey?: boolean } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, sub: 'alice', aud: 'ambit-e2e', iat: now, exp: now + 600, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'e2e-1' })
      .sign(opts.withOtherKey ? this.otherKey : this.key);
  }
}

/** The same header and payload with the first signature character changed (all six of its bits count). */
export function tamperSignature(token: string): string {
  const [h, p, s] = token.split('.');
  return `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
}

/** The payload swapped for another (sub: mallory) under the original signature. */
export function tamperPayload(token: string): string {
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as JWTPayload;
  return `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url')}.${s}`;
}

/**
 * Installs the Debian package when the binary is missing. Never skips: a machine that cannot get
 * Prometheus fails the test with what went wrong.
 */
export function ensurePrometheus(): void {
  if (fs.existsSync(PROMETHEUS)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const steps: Array<[string, string[]]> = [
    ['apt-get', ['update', '-qq']],
    ['apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'prometheus']],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) {
      throw new Error(`${PROMETHEUS} is missing and \`${cmd} ${args.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}\nInstall the Debian package prometheus to run this test.`);
    }
  }
  if (!fs.existsSync(PROMETHEUS)) throw new Error(`apt-get install prometheus succeeded but ${PROMETHEUS} is still missing`);
}

export type NodeView = StatusDoc['nodes'][number];

/** A node's own namespace and host cgroup: pod IPs are reachable from there, and nothing is captured. */
export const nodePlacement = (node: NodeView): Placement => ({ netnsPath: `/run/netns/${node.netns}`, cgroupPath: node.hostCgroupPath });

/** argv: url. GET, prints {status, body}. */
const HTTP_GET_JS = `
const http = require('http');
http.get(process.argv[1], { timeout: 5000 }, (r) => {
  let b = '';
  r.on('data', (d) => (b += d));
  r.on('end', () => console.log(JSON.stringify({ status: r.statusCode, body: b })));
}).on('error', (e) => console.log(JSON.stringify({ error: e.code || e.message })));
`;

export interface HttpGetResult {
  status?: number;
  body?: string;
  error?: string;
}

/** An HTTP GET from inside `where` (a node's namespace: not captured). */
export async function httpGetIn(where: Placement, cleanup: CleanupStack, url: string): Promise<HttpGetResult> {
  const r = await execIn(where, cleanup, process.execPath, ['-e', HTTP_GET_JS, url], { timeoutMs: 15_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`GET ${url} printed nothing useful (code ${r.code}): ${r.stderr}`);
  return JSON.parse(line) as HttpGetResult;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export class PrometheusServer {
  private constructor(
    private readonly where: Placement,
    private readonly cleanup: CleanupStack,
    readonly address: string,
    readonly dir: string,
    readonly pid: number,
    /** Kills the process (by its pid) and removes `dir`; the cleanup stack does it otherwise. */
    readonly stop: () => Promise<void>,
  ) {}

  /**
   * Starts Prometheus in `where`, scraping `targets` (host:port, /metrics) every second. The
   * process and `dir` are removed by `cleanup`, process first.
   */
  static async start(where: Placement, cleanup: CleanupStack, dir: string, targets: string[], listen = '127.0.0.1:19090'): Promise<PrometheusServer> {
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    const removeDir = cleanup.defer(`prometheus dir ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }), {
      sync: () => fs.rmSync(dir, { recursive: true, force: true }),
    });
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(
      config,
      `global: { scrape_interval: 1s, scrape_timeout: 800ms, evaluation_interval: 1s }
scrape_configs:
  - job_name: waypoint
    metrics_path: /metrics
    static_configs: [{ targets: ${JSON.stringify(targets)} }]
`,
    );
    const log = fs.openSync(path.join(dir, 'prometheus.log'), 'a');
    const child = spawnIn(
      where,
      cleanup,
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=${listen}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error(`prometheus did not start: see ${path.join(dir, 'prometheus.log')}`);
    const prom = new PrometheusServer(where, cleanup, listen, dir, child.pid, async () => {
      await killChild(child);
      await removeDir.run();
    });
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = `exited (${code ?? signal})`));
    await until(
      'prometheus to answer /-/ready',
      async () => {
        if (exited) throw new Error(`prometheus ${exited}: ${prom.log()}`);
        return (await prom.get('/-/ready')).status === 200;
      },
      60_000,
      300,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nprometheus log:\n${prom.log()}`);
    });
    return prom;
  }

  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'prometheus.log'), 'utf8').slice(-3000);
    } catch {
      return '(no log)';
    }
  }

  /** An HTTP GET to Prometheus from inside its namespace. */
  get(route: string): Promise<HttpGetResult> {
    return httpGetIn(this.where, this.cleanup, `http://${this.address}${route}`);
  }

  /** An instant PromQL query (HTTP API /api/v1/query): the vector's samples. */
  async query(promql: string): Promise<PromSample[]> {
    const r = await this.get(`/api/v1/query?query=${encodeURIComponent(promql)}`);
    if (r.status !== 200) throw new Error(`query ${promql}: ${r.status ?? r.error} ${r.body ?? ''}`);
    const doc = JSON.parse(r.body!) as { status: string; data: { resultType: string; result: PromSample[] } };
    if (doc.status !== 'success' || doc.data.resultType !== 'vector') throw new Error(`query ${promql}: ${r.body}`);
    return doc.data.result;
  }
}

/**
 * argv: host, port, payload file, waitMs. Connects, writes the file's bytes, reads until the peer
 * closes or waitMs passes (or, once the reply holds an HTTP/2 GOAWAY frame, briefly after);
 * prints {reply (base64), ended (peer FIN), closed (before waitMs), error, ms}. The payload is a file
 * because argv cannot carry 100 KiB (E2BIG).
 */
export const RAW_TCP_JS = `
const net = require('net');
const fs = require('fs');
const [host, port, file, waitMs] = process.argv.slice(1);
const t0 = Date.now();
const chunks = [];
let ended = false, error, printed = false, timer, linger;
const done = (closed) => {
  if (printed) return;
  printed = true;
  clearTimeout(timer);
  clearTimeout(linger);
  console.log(JSON.stringify({ reply: Buffer.concat(chunks).toString('base64'), ended, closed, error, ms: Date.now() - t0 }));
  sock.destroy();
};
const hasGoaway = (b) => {
  for (let i = 0; i + 9 <= b.length; ) {
    const len = b.readUIntBE(i, 3);
    if (b[i + 3] === 7 && i + 9 + len <= b.length) return true;
    i += 9 + len;
  }
  return false;
};
const sock = net.connect({ host, port: Number(port) }, () => sock.write(fs.readFileSync(file), (e) => { if (e) error = error || e.code; }));
sock.on('data', (d) => {
  chunks.push(d);
  // A GOAWAY ends the session; give the server a moment to close the connection too.
  if (linger === undefined && hasGoaway(Buffer.concat(chunks))) linger = setTimeout(() => done(false), 1500);
});
sock.on('end', () => (ended = true));
sock.on('error', (e) => (error = e.code || e.message));
sock.on('close', () => done(true));
timer = setTimeout(() => done(false), Number(waitMs));
`;

export interface RawReply {
  reply: string;
  ended: boolean;
  closed: boolean;
  error?: string;
  ms: number;
}

/**
 * argv: url, streams. HTTP/2 with prior knowledge: opens `streams` requests and cancels each at
 * once (HEADERS then RST_STREAM CANCEL, the CVE-2023-44487 shape); prints {goaway (error code or
 * null), closed (session closed by the server within 20 s), responses, sent, ms}.
 */
export const H2_RAPID_RESET_JS = `
const http2 = require('http2');
const [url, n] = process.argv.slice(1);
const t0 = Date.now();
let goaway = null, responses = 0, sent = 0, sessionError, printed = false, timer;
const s = http2.connect(url);
const done = (closed) => {
  if (printed) return;
  printed = true;
  clearTimeout(timer);
  console.log(JSON.stringify({ goaway, closed, responses, sent, sessionError, ms: Date.now() - t0 }));
  s.destroy();
};
s.on('error', (e) => (sessionError = e.code || e.message));
s.on('goaway', (code) => (goaway = code));
s.on('close', () => done(true));
s.once('remoteSettings', () => {
  for (let i = 0; i < Number(n) && !s.closed && !s.destroyed; i++) {
    const st = s.request({ ':path': '/flood/' + i });
    sent++;
    st.on('response', () => responses++);
    st.on('error', () => {});
    st.close(http2.constants.NGHTTP2_CANCEL);
  }
});
timer = setTimeout(() => done(false), 20000);
`;

/** argv: url, count. HTTP/2 prior knowledge, `count` GETs on one session; prints {statuses, error}. */
export const H2_GET_JS = `
const http2 = require('http2');
const [url, count] = process.argv.slice(1);
const s = http2.connect(url);
const statuses = [];
let error;
s.on('error', (e) => (error = e.code || e.message));
(async () => {
  for (let i = 0; i < Number(count); i++) {
    statuses.push(await new Promise((resolve) => {
      const st = s.request({ ':path': '/h2-after/' + i });
      let status;
      st.on('response', (h) => (status = h[':status']));
      st.on('data', () => {});
      st.on('end', () => resolve(status));
      st.on('error', (e) => resolve(e.code || e.message));
      st.setTimeout(10000, () => st.close());
    }));
  }
  console.log(JSON.stringify({ statuses, error }));
  s.close();
})();
`;

export interface H2Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** Splits a server's HTTP/2 byte stream into frames (RFC 9113 §4.1); a trailing partial frame is dropped. */
export function h2Frames(bytes: Buffer): H2Frame[] {
  const out: H2Frame[] = [];
  let i = 0;
  while (i + 9 <= bytes.length) {
    const len = bytes.readUIntBE(i, 3);
    if (i + 9 + len > bytes.length) break;
    out.push({ type: bytes[i + 3], flags: bytes[i + 4], stream: bytes.readUInt32BE(i + 5) & 0x7fffffff, payload: bytes.subarray(i + 9, i + 9 + len) });
    i += 9 + len;
  }
  return out;
}

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** One HTTP/2 frame. */
export function h2Frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

export const H2_FRAME = { SETTINGS: 0x4, PING: 0x6, GOAWAY: 0x7 } as const;
export const H2_ERROR = { PROTOCOL_ERROR: 0x1, FRAME_SIZE_ERROR: 0x6, ENHANCE_YOUR_CALM: 0xb } as const;
