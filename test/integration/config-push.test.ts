// ConfigService.Watch end to end over real gRPC on 127.0.0.1: the push engine, the status server
// and the ConfigClient library, with a real ResourceTable behind them.
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigClient, ConfigRejectedError, ConfigUpdate } from '../../common/config-client';
import { createLogger } from '../../common/log';
import { createWatchClient } from '../../common/config-client/watch-client';
import { createConfigServiceClient } from '../../common/proto/load';
import type { ConfigServiceClient } from '../../common/proto/generated/ambit/v1/ConfigService';
import type { Resource } from '../../common/proto/generated/ambit/v1/Resource';
import type { WatchRequest } from '../../common/proto/generated/ambit/v1/WatchRequest';
import type { WatchResponse__Output } from '../../common/proto/generated/ambit/v1/WatchResponse';
import { startStatusServer, StatusServer } from '../../control-plane/http/status-server';
import { ControlPlaneMetrics, createControlPlaneMetrics, METRIC_NAMES } from '../../control-plane/metrics';
import type { ResourceTypeName } from '../../control-plane/model/resource-store';
import { ResourceTable, ResourceWrite } from '../../control-plane/model/resource-table';
import { addConfigService, ConfigServiceHandle } from '../../control-plane/push';

// --- resources ---------------------------------------------------------------------------------

const NS = 'shop';
const host = (svc: string): string => `${svc}.${NS}.svc.cluster.local`;
const binding = (name: string) => ({ name, namespace: NS, hostname: host(name), hbonePort: 15008 });
const write = (type: ResourceTypeName, name: string, resource: Resource | undefined): ResourceWrite => ({ type, name, resource });
const workload = (name: string, extra: Partial<NonNullable<Resource['workload']>> = {}): ResourceWrite =>
  write('WORKLOAD', `uid/${name}`, { workload: { uid: `uid/${name}`, name, namespace: NS, node: 'node1', ready: true, ...extra } });
const service = (name: string, endpoints: string[], waypoint?: string): ResourceWrite =>
  write('SERVICE', `${NS}/${name}`, {
    service: {
      name,
      namespace: NS,
      hostname: host(name),
      vips: ['10.96.0.1'],
      endpoints: endpoints.map((e) => ({ workloadUid: `uid/${e}`, ports: { 80: 8080 } })),
      waypoint: waypoint === undefined ? null : binding(waypoint),
    },
  });

function meshScene(): ResourceWrite[] {
  return [
    workload('wp-pod', { isWaypoint: true, labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } }),
    workload('cart-0'),
    workload('cart-1'),
    workload('orders-0'),
    service('cart', ['cart-0', 'cart-1'], 'waypoint'),
    service('orders', ['orders-0']),
    write('ROUTE', `${NS}/cart-route`, {
      route: { name: 'cart-route', namespace: NS, parents: [{ serviceName: 'cart' }], rules: [{ backendRefs: [{ serviceName: 'cart' }] }] },
    }),
    write('AUTHORIZATION', `${NS}/allow-ns`, { authorization: { name: 'allow-ns', namespace: NS, scope: 'NAMESPACE' } }),
    write('AUTHORIZATION', `${NS}/wp-authz`, {
      authorization: {
        name: 'wp-authz',
        namespace: NS,
        scope: 'TARGET_REFS',
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }],
      },
    }),
    write('PEER_AUTHENTICATION', `${NS}/strict`, { peerAuthentication: { name: 'strict', namespace: NS, mode: 'STRICT' } }),
    write('DESTINATION_POLICY', `${NS}/orders-dr`, { destinationPolicy: { name: 'orders-dr', namespace: NS, host: host('orders') } }),
  ];
}

const AGENT_VIEW = [
  'AUTHORIZATION:shop/allow-ns',
  'PEER_AUTHENTICATION:shop/strict',
  'SERVICE:shop/cart',
  'SERVICE:shop/orders',
  'WORKLOAD:uid/cart-0',
  'WORKLOAD:uid/cart-1',
  'WORKLOAD:uid/orders-0',
  'WORKLOAD:uid/wp-pod',
];
const WAYPOINT_VIEW = [
  'AUTHORIZATION:shop/wp-authz',
  'ROUTE:shop/cart-route',
  'SERVICE:shop/cart',
  'WORKLOAD:uid/cart-0',
  'WORKLOAD:uid/cart-1',
  'WORKLOAD:uid/wp-pod',
];

const keys = (rs: readonly { key: { type: string; name: string } | null }[]): string[] =>
  rs.map((r) => `${r.key!.type}:${r.key!.name}`).sort();
const removedKeys = (ks: readonly { type: string; name: string }[]): string[] => ks.map((k) => `${k.type}:${k.name}`).sort();

// --- harness -----------------------------------------------------------------------------------

/** Every server and client a test made; closed after each test, also when it failed. */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface Plane {
  store: ResourceTable;
  handle: ConfigServiceHandle;
  metrics: ControlPlaneMetrics;
  status: StatusServer;
  address: string;
  port: number;
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

async function startPlane(store: ResourceTable, opts: { port?: number; instanceId?: string } = {}): Promise<Plane> {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger('control-plane', {
    level: 'debug',
    destination: { write: (line: string) => void logs.push(JSON.parse(line)) },
  });
  const metrics = createControlPlaneMetrics({ processMetrics: false });
  const server = new grpc.Server();
  const handle = addConfigService(server, { store, logger, metrics, instanceId: opts.instanceId });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${opts.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const status = await startStatusServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, clients: handle.clients, logger });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      handle.close();
      server.forceShutdown();
      await status.close();
    })());
  cleanups.push(stop);
  return { store, handle, metrics, status, address: `127.0.0.1:${port}`, port, logs, stop };
}

/** A client decoding as ConfigClient does (what the compact wire form leaves out filled back in). */
function grpcClient(address: string): ConfigServiceClient {
  const c = createWatchClient(address, grpc.credentials.createInsecure());
  cleanups.push(() => c.close());
  return c;
}

/** A Watch stream driven by hand, for protocol-level checks. */
class RawWatch {
  private readonly call: grpc.ClientDuplexStream<WatchRequest, WatchResponse__Output>;
  private readonly queue: WatchResponse__Output[] = [];
  private waiter: (() => void) | undefined;
  readonly status: Promise<grpc.StatusObject>;

  constructor(client: ConfigServiceClient) {
    this.call = client.Watch();
    this.call.on('data', (r: WatchResponse__Output) => {
      this.queue.push(r);
      this.waiter?.();
    });
    this.call.on('error', () => {});
    this.status = new Promise((resolve) => this.call.on('status', resolve));
    cleanups.push(() => this.call.cancel());
  }

  send(req: WatchRequest): void {
    this.call.write(req);
  }

  async next(): Promise<WatchResponse__Output> {
    while (this.queue.length === 0) await new Promise<void>((resolve) => (this.waiter = resolve));
    return this.queue.shift()!;
  }

  pause(): void {
    this.call.pause();
  }

  resume(): void {
    this.call.resume();
  }

  cancel(): void {
    this.call.cancel();
  }
}

const agentSubscribe = (clientId = 'test-agent'): WatchRequest => ({ subscribe: { node: 'node1', clientId } });
const waypointSubscribe = (): WatchRequest => ({ subscribe: { waypoint: `${NS}/waypoint`, clientId: 'test-waypoint' } });

/** Polls `check` until it returns a value (bounded, so a broken build fails instead of hanging). */
async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, what: string, limitMs = 10_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function httpGet(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      })
      .on('error', reject);
  });
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-config-push-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const storeWith = (writes: ResourceWrite[]): ResourceTable => {
  const t = new ResourceTable();
  t.apply(writes);
  return t;
};

// --- the push engine ---------------------------------------------------------------------------

describe('ConfigService.Watch', () => {
  it('answers subscribe with a snapshot of everything the agent uses, at the current version', async () => {
    const plane = await startPlane(storeWith(meshScene()));
    const watch = new RawWatch(grpcClient(plane.address));
    watch.send(agentSubscribe());
    const snap = await watch.next();
    expect(snap.snapshot).toBe(true);
    expect(snap.version).toBe(plane.handle.currentVersion());
    expect(snap.version).toMatch(new RegExp(`^${plane.handle.instanceId}-[0-9]+$`));
    expect(keys(snap.added)).toEqual(AGENT_VIEW);
    expect(snap.updated).toEqual([]);
    expect(snap.removed).toEqual([]);
    const cart = snap.added.find((r) => r.key?.name === `${NS}/cart`);
    expect(cart?.service?.endpoints.map((e) => e.workloadUid)).toEqual(['uid/cart-0', 'uid/cart-1']);
  });

  it('leaves derivable keys off the wire, which a plain proto-loader client sees and ConfigClient\'s decoder restores', async () => {
    const plane = await startPlane(storeWith(meshScene()));
    const plain = createConfigServiceClient(plane.address, grpc.credentials.createInsecure());
    cleanups.push(() => plain.close());
    const raw = new RawWatch(plain);
    raw.send(agentSubscribe('plain'));
    const onWire = await raw.next();
    expect(onWire.added).toHaveLength(AGENT_VIEW.length);
    expect(onWire.added.every((r) => r.key === null)).toBe(true);
    const watch = new RawWatch(grpcClient(plane.address));
    watch.send(agentSubscribe('decoded'));
    expect(keys((await watch.next()).added)).toEqual(AGENT_VIEW);
  });

  it('pushes a store change to a subscriber as a delta within a second', async () => {
    const plane = await startPlane(storeWith(meshScene()));
    const watch = new RawWatch(grpcClient(plane.address));
    watch.send(agentSubscribe());
    const snap = await watch.next();
    watch.send({ ack: { version: snap.version } });

    const t0 = performance.now();
    plane.store.apply([workload('cart-0', { ready: false }), workload('cart-2'), write('WORKLOAD', 'uid/orders-0', undefined)]);
    const delta = await watch.next();
    const elapsedMs = performance.now() - t0;

    expect(elapsedMs).toBeLessThan(1000);
    expect(delta.snapshot).toBe(false);
    expect(keys(delta.added)).toEqual(['WORKLOAD:uid/cart-2']);
    expect(keys(delta.updated)).toEqual(['WORKLOAD:uid/cart-0']);
    expect(delta.updated[0].workload?.ready).toBe(false);
    expect(removedKeys(delta.removed)).toEqual(['WORKLOAD:uid/orders-0']);
    const counter = (v: string): number => Number(v.split('-').pop());
    expect(counter(delta.version)).toBeGreaterThan(counter(snap.version));
    expect(delta.version).toBe(plane.handle.currentVersion());
    // The push was measured from store change to write.
    const metrics = await plane.metrics.registry.getSingleMetricAsString(METRIC_NAMES.pushLatency);
    expect(metrics).toMatch(new RegExp(`${METRIC_NAMES.pushLatency}_count\\{kind="agent"\\} 1`));
  });

  it('sends a waypoint only its own services, endpoints, pods, routes and policies', async () => {
    const plane = await startPlane(storeWith(meshScene()));
    const watch = new RawWatch(grpcClient(plane.address));
    watch.send(waypointSubscribe());
    const snap = await watch.next();
    expect(snap.snapshot).toBe(true);
    expect(keys(snap.added)).toEqual(WAYPOINT_VIEW);

    // A change to something the waypoint does not see is not sent to it at all.
    plane.store.apply([workload('orders-0', { ready: false })]);
    plane.store.apply([workload('cart-1', { ready: false })]);
    const delta = await watch.next();
    expect(keys(delta.updated)).toEqual(['WORKLOAD:uid/cart-1']);
    expect(delta.added).toEqual([]);
  });

  it('shows a newly bound service to the waypoint as added and an unbound one as removed', async () => {
    const plane = await startPlane(storeWith(meshScene()));
    const watch = new RawWatch(grpcClient(plane.address));
    watch.send(waypointSubscribe());
    await watch.next();

    plane.store.apply([service('orders', ['orders-0'], 'waypoint')]);
    const bound = await watch.next();
    expect(keys(bound.added)).toEqual(['DESTINATION_POLICY:shop/orders-dr', 'SERVICE:shop/orders', 'WORKLOAD:uid/orders-0']);
    expect(bound.updated).toEqual([]);
    expect(bound.removed).toEqual([]);

    plane.store.apply([service('cart', ['cart-0', 'cart-1'])]);
    const unbound = await watch.next();
    expect(unbound.added).toEqual([]);
    expect(removedKeys(unbound.removed)).toEqual([
      'ROUTE:shop/cart-route',
      'SERVICE:shop/cart',
      'WORKLOAD:uid/cart-0',
      'WORKLOAD:uid/cart-1',
    ]);
  });

  it('records a NACK in the log and in /metrics, shows it in /debug/clients, and keeps serving', async () => {
    const plane = await startPlane(storeWith(meshScene()));
    const watch = new RawWatch(grpcClient(plane.address));
    watch.send(agentSubscribe('nacking-agent'));
    const snap = await watch.next();
    watch.send({
      nack: {
        version: snap.version,
        message: 'workload uid/cart-0 has no address',
        errors: [{ key: { type: 'WORKLOAD', name: 'uid/cart-0' }, message: 'no address' }],
      },
    });

    const line = `${METRIC_NAMES.nacks}{kind="agent",type="WORKLOAD"} 1`;
    const scrape = await eventually(async () => {
      const res = await httpGet(`${plane.status.url}/metrics`);
      return res.body.includes(line) ? res : undefined;
    }, 'the NACK counter');
    expect(scrape.status).toBe(200);
    expect(scrape.type).toContain('text/plain');

    const warn = plane.logs.find((l) => l.level === 'warn' && l.version === snap.version);
    expect(warn).toMatchObject({
      client: 'nacking-agent',
      nackMessage: 'workload uid/cart-0 has no address',
      errors: [{ type: 'WORKLOAD', name: 'uid/cart-0', message: 'no address' }],
    });

    const clients = JSON.parse((await httpGet(`${plane.status.url}/debug/clients`)).body);
    expect(clients).toHaveLength(1);
    expect(clients[0]).toMatchObject({
      id: 'nacking-agent',
      kind: 'agent',
      node: 'node1',
      lastSentVersion: snap.version,
      lastAckedVersion: '',
      lastNack: { version: snap.version, message: 'workload uid/cart-0 has no address' },
    });

    plane.store.apply([workload('cart-0', { addresses: ['10.0.0.7'] })]);
    const fix = await watch.next();
    // The client rejected the snapshot, so what it holds is unknown: the next push re-adds
    // everything it should have, the fixed workload at its new revision included.
    expect(keys(fix.added)).toContain('WORKLOAD:uid/cart-0');
    expect(keys(fix.added)).toEqual(keys(snap.added));
    expect(fix.updated).toEqual([]);
    watch.send({ ack: { version: fix.version } });
    await eventually(() => (plane.handle.clients()[0]?.lastAckedVersion === fix.version ? true : undefined), 'the ACK');
  });

  it('resyncs a reconnecting client with a full snapshot at the current version', async () => {
    const plane = await startPlane(storeWith(meshScene()));
    const client = grpcClient(plane.address);
    const first = new RawWatch(client);
    first.send(agentSubscribe());
    const snap1 = await first.next();
    first.send({ ack: { version: snap1.version } });
    first.cancel();
    await eventually(() => (plane.handle.clients().length === 0 ? true : undefined), 'the server to drop the stream');

    // Changed while the client was away.
    plane.store.apply([workload('cart-9'), write('SERVICE', `${NS}/orders`, undefined)]);

    const second = new RawWatch(client);
    second.send({ subscribe: { node: 'node1', clientId: 'test-agent', lastAcceptedVersion: snap1.version } });
    const snap2 = await second.next();
    expect(snap2.snapshot).toBe(true);
    expect(snap2.version).toBe(plane.handle.currentVersion());
    expect(snap2.version).not.toBe(snap1.version);
    expect(keys(snap2.added)).toEqual(
      [...AGENT_VIEW.filter((k) => k !== 'SERVICE:shop/orders'), 'WORKLOAD:uid/cart-9'].sort(),
    );
  });

  it('ends a stream whose first message is not subscribe with FAILED_PRECONDITION', async () => {
    const plane = await startPlane(storeWith(meshScene()));
    const watch = new RawWatch(grpcClient(plane.address));
    watch.send({ ack: { version: 'whatever-1' } });
    const status = await watch.status;
    expect(status.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(status.details).toBe('the first message on a Watch stream must be subscribe, not ack');
    expect(status.metadata.get('ambit-error-code')).toEqual(['AMBIT_ERR_PROTOCOL']);
    expect(plane.handle.clients()).toEqual([]);
  });

  it('coalesces changes for a client that stops reading instead of queueing one response per change', async () => {
    const plane = await startPlane(storeWith(meshScene()));
    const watch = new RawWatch(grpcClient(plane.address));
    watch.send(agentSubscribe('slow-agent'));
    await watch.next();
    watch.pause();
    // Each version is far larger than an HTTP/2 window (64 KiB). grpc-js buffers up to 16 unread
    // messages in the client, then stops reading; after that the server's writes stall.
    const bulky = (n: number): ResourceWrite => workload('bulky', { labels: { n: String(n), pad: 'x'.repeat(256 * 1024) } });
    const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 30));
    let applied = 0;
    while (!(plane.handle.clients()[0]?.pendingChanges > 0)) {
      if (applied >= 200) throw new Error('the server never held changes back for a client that stopped reading');
      plane.store.apply([bulky(++applied)]);
      // Separate pushes (past the debounce), so only backpressure can merge them.
      await pause();
    }
    for (let i = 0; i < 5; i++) {
      plane.store.apply([bulky(++applied)]);
      await pause();
    }
    // Five more versions of one resource while stalled: at most one pending id, never five queued
    // responses (under load a stalled write can complete in between and take the id with it; the
    // count of responses received below is what proves the coalescing).
    expect(plane.handle.clients()[0].pendingChanges).toBeLessThanOrEqual(1);

    watch.resume();
    let received = 0;
    let last: WatchResponse__Output;
    do {
      last = await watch.next();
      received++;
    } while (last.version !== plane.handle.currentVersion());
    expect(received).toBeLessThan(applied);
    const final = [...last.added, ...last.updated].find((r) => r.key?.name === 'uid/bulky');
    expect(final?.workload?.labels.n).toBe(String(applied));
  });
});

// --- the client library --------------------------------------------------------------------------

describe('ConfigClient', () => {
  function startClient(address: string, extra: Partial<ConstructorParameters<typeof ConfigClient>[0]> = {}) {
    const accepted: ConfigUpdate[] = [];
    const client = new ConfigClient({
      address,
      subscription: { node: 'node1', clientId: 'library-agent' },
      accept: (u) => void accepted.push(u),
      backoff: { initialMs: 20, maxMs: 200 },
      ...extra,
    });
    cleanups.push(() => client.close());
    return { client, accepted };
  }

  it('applies snapshot and deltas, ACKs them, and NACKs what accept throws on', async () => {
    const plane = await startPlane(storeWith(meshScene()));
    const { client } = startClient(plane.address, {
      accept: (u) => {
        if (u.resources.has('WORKLOAD:uid/evil')) throw new ConfigRejectedError('evil workload', [{ key: { type: 'WORKLOAD', name: 'uid/evil' }, message: 'nope' }]);
      },
    });
    const updates = client.updates();
    await client.start();
    expect(await client.ready()).toBe(true);
    expect([...client.resources.keys()].sort()).toEqual(AGENT_VIEW);

    const rejected = new Promise<unknown>((resolve) => client.once('rejected', (_u, err) => resolve(err)));
    const before = client.version;
    plane.store.apply([workload('evil')]);
    expect(await rejected).toBeInstanceOf(ConfigRejectedError);
    expect(client.version).toBe(before);
    expect(client.resources.has('WORKLOAD:uid/evil')).toBe(false);
    await eventually(() => plane.handle.clients()[0]?.lastNack?.version, 'the NACK at the server');
    expect(await plane.metrics.registry.getSingleMetricAsString(METRIC_NAMES.nacks)).toContain(
      `${METRIC_NAMES.nacks}{kind="agent",type="WORKLOAD"} 1`,
    );

    plane.store.apply([write('WORKLOAD', 'uid/evil', undefined), workload('cart-5')]);
    const it = await updates.next();
    expect(it.value?.snapshot).toBe(true);
    const delta = (await updates.next()).value as ConfigUpdate;
    expect(delta.snapshot).toBe(false);
    expect(keys(delta.added)).toEqual(['WORKLOAD:uid/cart-5']);
    expect(client.resources.has('WORKLOAD:uid/cart-5')).toBe(true);
    await eventually(() => (plane.handle.clients()[0]?.lastAckedVersion === delta.version ? true : undefined), 'the ACK');
  });

  it('reconnects after the control plane restarts and takes the new snapshot', async () => {
    const plane1 = await startPlane(storeWith(meshScene()), { instanceId: 'first' });
    const { client, accepted } = startClient(plane1.address);
    await client.start();
    await client.ready();
    expect(client.version).toMatch(/^first-/);

    const disconnected = new Promise((resolve) => client.once('disconnected', resolve));
    await plane1.stop();
    await disconnected;
    expect(client.connected).toBe(false);
    // Still serving what it had.
    expect([...client.resources.keys()].sort()).toEqual(AGENT_VIEW);

    const plane2 = await startPlane(storeWith([workload('solo')]), { port: plane1.port, instanceId: 'second' });
    const resynced = await eventually(() => accepted.find((u) => u.version.startsWith('second-')), 'the new snapshot');
    expect(resynced.snapshot).toBe(true);
    expect([...client.resources.keys()]).toEqual(['WORKLOAD:uid/solo']);
    expect(client.connected).toBe(true);
    await eventually(() => (plane2.handle.clients()[0]?.lastAckedVersion === resynced.version ? true : undefined), 'the ACK');
  });

  it('starts from its cache file while the control plane is down', async () => {
    const cachePath = path.join(tempDir(), 'agent', 'config.snapshot');
    const plane = await startPlane(storeWith(meshScene()));
    const first = startClient(plane.address, { cachePath });
    await first.client.start();
    await first.client.ready();
    const version = first.client.version;
    await first.client.flushCache();
    expect(fs.statSync(cachePath).mode & 0o777).toBe(0o600);
    await first.client.close();
    await plane.stop();

    const second = startClient(plane.address, { cachePath });
    await second.client.start();
    expect(await second.client.ready()).toBe(true);
    expect(second.accepted).toHaveLength(1);
    expect(second.accepted[0]).toMatchObject({ source: 'cache', snapshot: true, version });
    expect([...second.client.resources.keys()].sort()).toEqual(AGENT_VIEW);
    expect(second.client.connected).toBe(false);
    // No temp files left behind by the atomic writes.
    expect(fs.readdirSync(path.dirname(cachePath))).toEqual(['config.snapshot']);
  });

  it('ignores a cache written for another subscription', async () => {
    const cachePath = path.join(tempDir(), 'config.snapshot');
    const plane = await startPlane(storeWith(meshScene()));
    const agent = startClient(plane.address, { cachePath });
    await agent.client.start();
    await agent.client.ready();
    await agent.client.close();
    await plane.stop();

    const waypoint = startClient(plane.address, { cachePath, subscription: { waypoint: `${NS}/waypoint` } });
    await waypoint.client.start();
    expect(waypoint.accepted).toEqual([]);
    expect(waypoint.client.version).toBeUndefined();
  });
});

// --- the status server ---------------------------------------------------------------------------

describe('status server', () => {
  it('is ready only when every readiness check passes, and names the failing ones', async () => {
    const plane = await startPlane(new ResourceTable());
    let synced = false;
    plane.status.addReadinessCheck('sources-synced', () => synced);
    plane.status.addReadinessCheck('ca-loaded', async () => {
      throw new Error('no root yet');
    });
    const notReady = await httpGet(`${plane.status.url}/healthz/ready`);
    expect(notReady.status).toBe(503);
    expect(notReady.body).toBe('not ready: sources-synced, ca-loaded\n');

    synced = true;
    const remove = plane.status.addReadinessCheck('ca-loaded', () => true);
    expect(await httpGet(`${plane.status.url}/healthz/ready`)).toMatchObject({ status: 200, body: 'ready\n' });
    remove();
    expect((await httpGet(`${plane.status.url}/healthz/ready`)).status).toBe(200);
  });

  it('serves /debug/problems from its provider, extra routes, and 404 for the rest', async () => {
    const plane = await startPlane(new ResourceTable());
    plane.status.setProblemsProvider(() => [{ file: 'mesh.yaml', message: 'bad port' }]);
    plane.status.route('/dashboard', (_req, res) => void res.end('dash'));
    expect(JSON.parse((await httpGet(`${plane.status.url}/debug/problems`)).body)).toEqual([{ file: 'mesh.yaml', message: 'bad port' }]);
    expect((await httpGet(`${plane.status.url}/dashboard`)).body).toBe('dash');
    expect((await httpGet(`${plane.status.url}/nope`)).status).toBe(404);
    const metrics = await httpGet(`${plane.status.url}/metrics`);
    expect(metrics.body).toContain(`${METRIC_NAMES.resources}{type="WORKLOAD"} 0`);
    await plane.status.close();
    await plane.status.close();
  });
});
