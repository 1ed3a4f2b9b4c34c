// The agent re-enrolling the pods the CNI plugin recorded, at start (EnrollmentServer
// .reenrollRecorded): each record on its own, retries with backoff, and "unknown" — not "gone" —
// for a /proc/<pid> namespace the agent cannot see. The handler records what it is asked; the
// pods' netns is this process's own (/proc/self/ns/net), so no privileges are needed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { CniPodResolver, type PodWorkload, type WorkloadSource } from '../../agent/enrollment/cni-pod-resolver';
import { EnrollmentServer, type EnrollmentHandler } from '../../agent/enrollment/enrollment-server';
import type { PodInfo } from '../../common/enrollment/protocol';
import { createLogger } from '../../common/log';

jest.setTimeout(20_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Handler implements EnrollmentHandler {
  readonly pods = new Map<string, PodInfo>();
  readonly snapshots: string[][] = [];
  async add(p: PodInfo): Promise<void> {
    this.pods.set(p.uid, p);
  }
  async del(uid: string): Promise<void> {
    this.pods.delete(uid);
  }
  async snapshotDone(kept: ReadonlySet<string>): Promise<void> {
    this.snapshots.push([...kept].sort());
  }
}

/** The mesh config: the workloads it lists (ambient, on node-a); `list` adds one and tells listeners. */
class Workloads implements WorkloadSource {
  readonly node = 'node-a';
  private readonly listed = new Set<string>();
  private readonly listeners = new Set<() => void>();
  version = (): string => '1';
  podWorkload(namespace: string, name: string): PodWorkload | undefined {
    return this.listed.has(`${namespace}/${name}`) ? { serviceAccount: 'sa', node: 'node-a', protocol: 'HBONE', isWaypoint: false } : undefined;
  }
  onConfig(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  list(key: string): void {
    this.listed.add(key);
    for (const l of [...this.listeners]) l();
  }
}

let dir: string;
let handler: Handler;
let workloads: Workloads;
let server: EnrollmentServer;
let logLines: Array<Record<string, unknown>>;
const self = fs.statSync('/proc/self/ns/net', { bigint: true });

function record(uid: string, name: string, netns = '/proc/self/ns/net', netnsInode = `${self.dev}:${self.ino}`): string {
  const file = path.join(dir, `${uid}.json`);
  const r = { version: 1, uid, namespace: 'shop', name, containerId: `sandbox-${uid}`, netns, netnsInode, cgroupPath: `/sys/fs/cgroup/kubepods/pod${uid}`, ips: ['10.244.1.7'] };
  fs.writeFileSync(file, JSON.stringify(r));
  return file;
}

function start(retry = { firstDelayMs: 50, maxDelayMs: 200, attempts: 4 }): EnrollmentServer {
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  server = new EnrollmentServer({
    socketPath: path.join(dir, 'unused.sock'),
    handler,
    logger: createLogger('agent', { level: 'debug', destination }),
    node: 'node-a',
    cni: new CniPodResolver(workloads, 50),
    recordRetry: retry,
  });
  return server;
}

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-cni-records-'));
  handler = new Handler();
  workloads = new Workloads();
  logLines = [];
});

afterEach(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('re-enrolling the CNI record at agent start', () => {
  it('regression: a record whose netns cannot be opened (not ENOENT) fails that pod only, not the agent start', async () => {
    workloads.list('shop/good');
    workloads.list('shop/bad');
    record('good', 'good');
    fs.writeFileSync(path.join(dir, 'plain-file'), '');
    const bad = record('bad', 'bad', path.join(dir, 'plain-file', 'ns')); // ENOTDIR
    const found = await start({ firstDelayMs: 20, maxDelayMs: 20, attempts: 2 }).reenrollRecorded(dir);
    expect(found).toMatchObject({ enrolled: ['shop/good'], gone: [], unknown: [], failed: [{ pod: 'shop/bad', reason: expect.stringContaining('ENOTDIR') }] });
    expect([...handler.pods.keys()]).toEqual(['good']);
    // Its capture stays: no snapshot (which would sweep it) while a pod is not settled.
    expect(handler.snapshots).toEqual([]);
    expect(fs.existsSync(bad)).toBe(true);
    await until('the retries give up', () => server.waitingFor()?.includes('gave up after 2 attempts') === true);
    expect(server.waitingFor()).toMatch(/^1 pod\(s\) the CNI plugin recorded are not served: shop\/bad: not re-enrolled, gave up after 2 attempts \(.*ENOTDIR/);
    expect(logLines.some((l) => String(l.msg).startsWith('gave up re-enrolling a pod the CNI plugin recorded'))).toBe(true);
    expect(handler.snapshots).toEqual([]);
  });

  it('regression: a pod that failed to re-enroll (not in the config yet) is retried with backoff, then the snapshot is done', async () => {
    workloads.list('shop/first');
    record('first', 'first');
    record('later', 'later');
    const found = await start().reenrollRecorded(dir);
    expect(found.failed).toEqual([{ pod: 'shop/later', reason: expect.stringContaining('has no pod shop/later') }]);
    expect(handler.snapshots).toEqual([]);
    expect(server.waitingFor()).toMatch(/shop\/later: not re-enrolled, retrying, attempt 1 of 4/);

    workloads.list('shop/later');
    await until('the snapshot is done', () => handler.snapshots.length > 0);
    expect(handler.snapshots).toEqual([['first', 'later']]);
    expect([...handler.pods.keys()].sort()).toEqual(['first', 'later']);
    expect(server.waitingFor()).toBeUndefined();
    expect(logLines.some((l) => l.msg === 're-enrolled a pod the CNI plugin recorded' && l.pod === 'shop/later')).toBe(true);
  });

  it('regression: a /proc/<pid>/ns/net the agent cannot see is "unknown": record and capture kept, not "gone"', async () => {
    workloads.list('shop/docker');
    // No such pid (above any pid_max): what an agent without the host PID namespace sees of every pod.
    const file = record('docker', 'docker', '/proc/999999999/ns/net');
    const found = await start().reenrollRecorded(dir);
    expect(found).toMatchObject({ enrolled: [], gone: [], failed: [], unknown: [{ pod: 'shop/docker', reason: expect.stringContaining('hostPID') }] });
    expect(fs.existsSync(file)).toBe(true);
    await sleep(300); // not retried, and no snapshot that would sweep its capture
    expect(handler.snapshots).toEqual([]);
    expect(server.waitingFor()).toMatch(/shop\/docker: network namespace not visible/);
    expect(logLines.some((l) => String(l.msg).includes('not visible to this agent'))).toBe(true);
  });

  it('records of a gone netns and of a path naming another netns are removed, then the snapshot is done; under /proc neither is proof', async () => {
    workloads.list('shop/app');
    record('app', 'app');
    const gone = record('gone', 'gone', path.join(dir, 'no-such-netns'));
    fs.symlinkSync('/proc/self/ns/net', path.join(dir, 'netns-link'));
    const reused = record('reused', 'reused', path.join(dir, 'netns-link'), '1:1');
    const found = await start().reenrollRecorded(dir);
    expect(found).toEqual({ enrolled: ['shop/app'], notAmbient: [], gone: ['shop/gone', 'shop/reused'], unknown: [], failed: [] });
    expect(fs.existsSync(gone)).toBe(false);
    expect(fs.existsSync(reused)).toBe(false);
    expect(handler.snapshots).toEqual([['app']]);
    await server.close();

    const byPid = record('reused', 'reused', '/proc/self/ns/net', '1:1');
    handler = new Handler();
    const again = await start().reenrollRecorded(dir);
    expect(again.unknown).toEqual([{ pod: 'shop/reused', reason: expect.stringContaining('names another network namespace') }]);
    expect(fs.existsSync(byPid)).toBe(true);
    expect(handler.snapshots).toEqual([]);
  });
});
