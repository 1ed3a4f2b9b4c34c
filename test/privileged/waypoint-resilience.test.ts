/**
 * Waypoint resilience end to end (issue 5), through the real path pod -> agent -> waypoint -> agent
 * -> pod, on the world of waypoint-env.ts plus waypoint-resilience-env.ts (a service `od` with one
 * endpoint that can be made to fail, a second gRPC backend). Routes, DestinationRules and
 * FaultInjections are applied as files (hot reload); each test removes what it applied. Every test
 * first proves its config is in force (a marker response header, or the behaviour itself) so a
 * slow config push never counts as a failure of the feature.
 *
 * Figures each test measured are printed as "[waypoint-resilience] ..." lines.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { statePaths } from '../../cli/local/state-dir';
import { CleanupStack } from '../../common/sandbox';
import { requirePrivileged } from '../harness';
import { until } from './mesh-env';
import { WaypointWorld, writeWorld, upWorld, downWorld } from './waypoint-env';
import {
  EXTRA_PODS,
  GRPC_CALLS_JS,
  LOAD_JS,
  OD_B_FAIL_FILE,
  percentile,
  writeResilienceWorld,
  type GrpcCall,
  type GrpcResult,
  type LoadResult,
  type LoadSpec,
} from './waypoint-resilience-env';

jest.setTimeout(180_000);

const report = (msg: string): void => {
  process.stderr.write(`[waypoint-resilience] ${msg}\n`);
};

/** An HTTPRoute on Service `parent` port 80 whose responses carry `x-route: <marker>` (proof it is in force). */
const httpRoute = (name: string, parent: string, marker: string, rule: string): string => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: shop }
spec:
  parentRefs: [{ group: "", kind: Service, name: ${parent}, port: 80 }]
  rules:
    - backendRefs: [{ name: ${parent}, port: 80 }]
      filters:
        - type: ResponseHeaderModifier
          responseHeaderModifier: { set: [{ name: x-route, value: ${marker} }] }
${rule}`;

const destinationRule = (name: string, host: string, trafficPolicy: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name}, namespace: shop }
spec:
  host: ${host}
  trafficPolicy:
${trafficPolicy}`;

const flagsOf = (line: Record<string, unknown>): string[] => String(line.response_flags ?? '-').split(',');

describe('waypoint: resilience through pod -> agent -> waypoint -> agent -> pod', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-waypoint-res-'));
  const config = path.join(tmp, 'config');
  const paths = statePaths(path.join(tmp, 'state'));
  const cleanup = new CleanupStack();
  const world = new WaypointWorld(config, paths, cleanup);

  const load = async (spec: LoadSpec, timeoutMs = 60_000): Promise<LoadResult[]> =>
    (await world.script<{ results: LoadResult[] }>('client', LOAD_JS, [JSON.stringify(spec)], timeoutMs)).results;
  const url = (service: string, p = '/'): string => `http://${world.vip(service)}${p}`;
  /** Access-log lines of the requests a load run tagged with `id`, once all `count` are written. */
  const logged = (id: string, count: number): Promise<Array<Record<string, unknown>>> =>
    until(
      `the waypoint to log ${count} requests ${id}-*`,
      () => {
        const lines = world.waypointLog().filter((l) => typeof l.request_id === 'string' && l.request_id.startsWith(`${id}-`));
        return lines.length >= count ? lines : undefined;
      },
      20_000,
      200,
    );
  /** Waits until responses of `service` carry the route marker. */
  const routeInForce = (service: string, marker: string): Promise<unknown> =>
    until(`the route "${marker}" to be in force`, async () => (await load({ url: url(service, '/probe'), count: 1 }))[0].route === marker, 30_000, 300);

  beforeAll(async () => {
    requirePrivileged();
    writeWorld(config);
    writeResilienceWorld(config);
    await upWorld(world, 9 + EXTRA_PODS, async () => (await load({ url: url('web', '/warmup'), count: 1 }))[0].status === 200);
  });

  afterAll(async () => {
    const left = await downWorld(world, tmp);
    if (left) expect(left).toEqual({ netns: [], cgroups: [], pins: [] });
  }, 60_000);

  it('retries turn a backend failing every other request into >= 99% success; a 4xx is not retried, a listed 5xx is', async () => {
    // Without retries (attempts 0) the flaky service fails every other request...
    world.apply('route-flaky.yaml', httpRoute('flaky', 'flaky', 'flaky-no-retry', `      retry: { attempts: 0 }\n`));
    await routeInForce('flaky', 'flaky-no-retry');
    const bare = await load({ url: url('flaky', '/bare'), count: 40 });
    const bareFailed = bare.filter((r) => r.status === 503).length;
    // ...with retry {attempts 2, codes [503], backoff 10ms} they succeed.
    world.apply('route-flaky.yaml', httpRoute('flaky', 'flaky', 'flaky-retry', `      retry: { attempts: 2, codes: [503], backoff: 10ms }\n`));
    await routeInForce('flaky', 'flaky-retry');
    const retried = await load({ url: url('flaky', '/retried'), count: 200, id: 'retry' });
    const ok = retried.filter((r) => r.status === 200).length;
    const attempts = (await logged('retry', 200)).map((l) => Number(l.attempts));
    const twice = attempts.filter((a) => a === 2).length;
    report(`flaky without retries: ${bareFailed}/40 failed; with retries: ${ok}/200 succeeded, ${twice} needed 2 attempts, max attempts ${Math.max(...attempts)}`);
    expect(bareFailed).toBeGreaterThanOrEqual(15);
    expect(ok).toBeGreaterThanOrEqual(198);
    expect(twice).toBeGreaterThanOrEqual(50);
    expect(Math.max(...attempts)).toBeLessThanOrEqual(3);
    world.remove('route-flaky.yaml');

    // web-v2 is one pod whose counter n counts every request it gets: a 404 reaches it once, a 503
    // (listed in codes) 1 + 2 retries times.
    world.apply('route-web-v2.yaml', httpRoute('web-v2', 'web-v2', 'v2-retry', `      retry: { attempts: 2, codes: [503], backoff: 10ms }\n`));
    await routeInForce('web-v2', 'v2-retry');
    const step = async (p: string, id: string): Promise<LoadResult> => (await load({ url: url('web-v2', p), count: 1, id }))[0];
    const a = await step('/before', 'r4xx-a');
    const notFound = await step('/status/404', 'r4xx-404');
    const b = await step('/between', 'r4xx-b');
    const unavailable = await step('/status/503', 'r4xx-503');
    const c = await step('/after', 'r4xx-c');
    const [log404] = await logged('r4xx-404', 1);
    const [log503] = await logged('r4xx-503', 1);
    report(`web-v2 counter: /before ${a.n}, /status/404 ${notFound.n} (attempts ${log404.attempts}), /between ${b.n}, /status/503 ${unavailable.n} (attempts ${log503.attempts}), /after ${c.n}`);
    expect([notFound.status, unavailable.status]).toEqual([404, 503]);
    expect(notFound.n! - a.n!).toBe(1);
    expect(b.n! - notFound.n!).toBe(1);
    expect(unavailable.n! - b.n!).toBe(3);
    expect(c.n! - unavailable.n!).toBe(1);
    expect(log404.attempts).toBe(1);
    expect(log503.attempts).toBe(3);
    world.remove('route-web-v2.yaml');
  });

  it('timeouts.request answers 504 when the backend is slower, well before the backend answers', async () => {
    world.apply(
      'route-slow.yaml',
      `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: slow, namespace: shop }
spec:
  parentRefs: [{ group: "", kind: Service, name: slow, port: 80 }]
  rules:
    - backendRefs: [{ name: slow, port: 80 }]
      timeouts: { request: 300ms }
`,
    );
    // The slow app takes 1500 ms; a 504 proves the route is in force.
    await until('the request timeout to be in force', async () => (await load({ url: url('slow', '/probe'), count: 1 }))[0].status === 504, 30_000, 300);
    const results = await load({ url: url('slow', '/timed'), count: 10, id: 'timeout' });
    const ms = results.map((r) => r.ms);
    const lines = await logged('timeout', 10);
    report(`timeouts.request 300ms against a 1500 ms backend: statuses ${[...new Set(results.map((r) => r.status))].join(',')}, client ms min ${Math.min(...ms)} median ${percentile(ms, 50)} max ${Math.max(...ms)}`);
    expect(results.every((r) => r.status === 504)).toBe(true);
    expect(Math.min(...ms)).toBeGreaterThanOrEqual(290);
    // Far below the 1500 ms the backend needs, with room for a loaded machine.
    expect(Math.max(...ms)).toBeLessThan(1300);
    expect(lines.every((l) => l.response_code === 504 && flagsOf(l).includes('UT'))).toBe(true);
    world.remove('route-slow.yaml');
    await until('the slow service to answer 200 again', async () => (await load({ url: url('slow', '/probe'), count: 1 }))[0].status === 200, 30_000, 300);
  });

  it('RequestMirror sends copies to the mirror (100%, then 50%) and the client only ever sees the primary', async () => {
    // The mirror app's counter n counts every request it gets, copies and these probes alike.
    let probes = 0;
    const mirrorCount = async (): Promise<number> => {
      const [r] = await load({ url: url('mirror', '/count'), count: 1 });
      if (r.status !== 200 || r.n === undefined) throw new Error(`mirror probe failed: ${JSON.stringify(r)}`);
      probes++;
      return r.n;
    };
    /** Copies received since `base` (a probe result), once the count stops moving. */
    const copiesSince = async (base: number, baseProbes: number, atLeast: number): Promise<number> => {
      let last = -1;
      return until(
        'the mirror copies to settle',
        async () => {
          const copies = (await mirrorCount()) - base - (probes - baseProbes);
          const settled = copies >= atLeast && copies === last;
          last = copies;
          return settled ? copies : undefined;
        },
        30_000,
        1000,
      );
    };
    const mirrorRoute = (marker: string, percent: number): string =>
      httpRoute(
        'web-v1-mirror',
        'web-v1',
        marker,
        `        - type: RequestMirror
          requestMirror: { backendRef: { name: mirror, port: 80 }, percent: ${percent} }
`,
      );

    world.apply('route-web-v1.yaml', mirrorRoute('mirror-100', 100));
    await routeInForce('web-v1', 'mirror-100');
    let base = await mirrorCount();
    let baseProbes = probes;
    const full = await load({ url: url('web-v1', '/mirrored'), count: 100 });
    const fullCopies = await copiesSince(base, baseProbes, 100);

    world.apply('route-web-v1.yaml', mirrorRoute('mirror-50', 50));
    await routeInForce('web-v1', 'mirror-50');
    base = await mirrorCount();
    baseProbes = probes;
    const half = await load({ url: url('web-v1', '/mirrored'), count: 200 });
    const halfCopies = await copiesSince(base, baseProbes, 1);
    const all = [...full, ...half];
    report(`mirror percent 100: ${fullCopies} copies of 100 requests; percent 50: ${halfCopies} copies of 200; client responses from ${[...new Set(all.map((r) => r.pod))].join(',')}`);
    expect(all.every((r) => r.status === 200 && r.pod === 'web-v1')).toBe(true);
    expect(fullCopies).toBe(100);
    // Binomial(200, 0.5): sd ~7; ±30 is over 4 sd.
    expect(Math.abs(halfCopies - 100)).toBeLessThanOrEqual(30);
    world.remove('route-web-v1.yaml');
  });

  it('FaultInjection (ExtensionRef) aborts 30% with 503 and delays 50% by 200 ms, independently', async () => {
    world.apply(
      'fault.yaml',
      `apiVersion: ambit.dev/v1alpha1
kind: FaultInjection
metadata: { name: faults, namespace: shop }
spec:
  abort: { httpStatus: 503, percentage: { value: 30 } }
  delay: { fixedDelay: 200ms, percentage: { value: 50 } }
---
${httpRoute(
  'web-v1-fault',
  'web-v1',
  'fault',
  `        - type: ExtensionRef
          extensionRef: { group: ambit.dev, kind: FaultInjection, name: faults }
`,
)}`,
    );
    await routeInForce('web-v1', 'fault');
    const N = 1000;
    const results = await load({ url: url('web-v1', '/faulty'), count: N, concurrency: 10, id: 'fault' }, 120_000);
    const lines = await logged('fault', N);
    const byId = new Map(lines.map((l) => [String(l.request_id), l]));
    const aborted = results.filter((r) => r.status === 503);
    const passed = results.filter((r) => r.status === 200 && r.pod === 'web-v1' && r.route === 'fault');
    const delayed = results.filter((r) => flagsOf(byId.get(`fault-${r.i}`) ?? {}).includes('DI'));
    const notDelayed = results.filter((r) => !flagsOf(byId.get(`fault-${r.i}`) ?? {}).includes('DI'));
    const fi = lines.filter((l) => flagsOf(l).includes('FI')).length;
    const delayedMs = delayed.map((r) => r.ms);
    const bothShare = (100 * aborted.filter((r) => delayed.includes(r)).length) / N;
    report(
      `fault over ${N}: aborted ${aborted.length} (${(100 * aborted.length) / N}%, FI logged ${fi}), delayed ${delayed.length} (${(100 * delayed.length) / N}%), both ${bothShare}%, ` +
        `delayed ms min ${Math.min(...delayedMs)} median ${percentile(delayedMs, 50)}, not delayed median ${percentile(notDelayed.map((r) => r.ms), 50)}`,
    );
    expect(aborted.length + passed.length).toBe(N);
    expect(Math.abs((100 * aborted.length) / N - 30)).toBeLessThanOrEqual(5);
    expect(fi).toBe(aborted.length);
    expect(Math.abs((100 * delayed.length) / N - 50)).toBeLessThanOrEqual(5);
    expect(Math.min(...delayedMs)).toBeGreaterThanOrEqual(200);
    // Independent draws: ~15% are both delayed and aborted.
    expect(Math.abs(bothShare - 15)).toBeLessThanOrEqual(5);
    world.remove('fault.yaml');
  });

  it('outlier detection ejects the failing endpoint and readmits it after baseEjectionTime', async () => {
    const failFile = path.join(config, OD_B_FAIL_FILE);
    fs.writeFileSync(failFile, '');
    // No retries, so the client sees which endpoint answered and how.
    world.apply('route-od.yaml', httpRoute('od', 'od', 'od-no-retry', `      retry: { attempts: 0 }\n`));
    await until('od-b to answer 503 through the route without retries', async () => (await load({ url: url('od', '/probe'), count: 4 })).some((r) => r.pod === 'od-b' && r.status === 503 && r.route === 'od-no-retry'), 30_000, 300);

    world.apply(
      'dr-od.yaml',
      destinationRule(
        'od',
        'od',
        `    outlierDetection: { consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 3s, maxEjectionPercent: 100 }
`,
      ),
    );
    // Round robin alternates od-a / od-b; once the rule is in force, od-b's third 503 in a row
    // ejects it and ten answers in a row come from od-a.
    const before = await load({ url: url('od', '/eject'), count: 1000, gapMs: 50, stopAfterStreak: { pod: 'od-b', streak: 10 } }, 120_000);
    const lastFailure = [...before].reverse().find((r) => r.pod === 'od-b')!;
    // Heal od-b while it is ejected: when readmitted, it answers 200.
    fs.rmSync(failFile, { force: true });
    const healedAt = Date.now();
    const after = await load({ url: url('od', '/readmit'), count: 200, gapMs: 50 }, 120_000);
    const back = after.find((r) => r.pod === 'od-b');
    const ejectedFor = back ? back.t - lastFailure.t : NaN;
    const sinceBack = back ? after.filter((r) => r.t >= back.t) : [];
    const bShare = sinceBack.length ? sinceBack.filter((r) => r.pod === 'od-b').length / sinceBack.length : 0;
    report(
      `outlier: ${before.length} requests until od-b was ejected (od-b failures seen ${before.filter((r) => r.pod === 'od-b').length}); ` +
        `healed ${healedAt - lastFailure.t} ms after its last failure; od-b got traffic again ${ejectedFor} ms after it (baseEjectionTime 3s, interval 1s); ` +
        `then od-b share ${(100 * bShare).toFixed(0)}% of ${sinceBack.length}, statuses ${[...new Set(sinceBack.map((r) => r.status))].join(',')}`,
    );
    expect(before.length).toBeLessThan(1000); // the ejection happened
    expect(before.filter((r) => r.pod === 'od-b').every((r) => r.status === 503)).toBe(true);
    expect(healedAt - lastFailure.t).toBeLessThan(2500); // healed during the ejection, not after
    expect(back).toBeDefined();
    // Ejected: nothing reached od-b for baseEjectionTime (3 s; expiry is noticed on the 1 s interval tick).
    expect(ejectedFor).toBeGreaterThanOrEqual(2800);
    expect(ejectedFor).toBeLessThan(9000);
    expect(after.filter((r) => r.t < back!.t).every((r) => r.pod === 'od-a' && r.status === 200)).toBe(true);
    // Readmitted: od-b takes its round-robin share again, answering 200.
    expect(sinceBack.every((r) => r.status === 200)).toBe(true);
    expect(bShare).toBeGreaterThanOrEqual(0.3);
    world.remove('dr-od.yaml');
    world.remove('route-od.yaml');
  });

  it('connection-pool overflow (maxConnections 1, http1MaxPendingRequests 1) answers 503 with response flag UO', async () => {
    world.apply(
      'dr-slow.yaml',
      destinationRule(
        'slow',
        'slow',
        `    connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } }
`,
      ),
    );
    await until('the pool limits to be in force', async () => (await load({ url: url('slow', '/probe'), count: 10, concurrency: 10 })).some((r) => r.status === 503), 60_000, 300);
    const results = await load({ url: url('slow', '/burst'), count: 10, concurrency: 10, id: 'burst' });
    const lines = await logged('burst', 10);
    const ok = results.filter((r) => r.status === 200);
    const overflow = results.filter((r) => r.status === 503);
    const uo = lines.filter((l) => l.response_code === 503 && flagsOf(l).includes('UO')).length;
    report(`pool overflow, 10 concurrent to the 1500 ms backend: ${ok.length} x 200 (ms ${ok.map((r) => r.ms).join(',')}), ${overflow.length} x 503 (max ms ${Math.max(...overflow.map((r) => r.ms))}), UO logged ${uo}`);
    expect(ok.length + overflow.length).toBe(10);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(overflow.length).toBeGreaterThanOrEqual(5);
    expect(uo).toBe(overflow.length);
    // Overflow is immediate: it does not wait for the backend.
    expect(Math.max(...overflow.map((r) => r.ms))).toBeLessThan(1500);
    world.remove('dr-slow.yaml');
  });

  it('consistentHash httpHeaderName x-user: a user sticks to one endpoint; users spread over both', async () => {
    world.apply('dr-web.yaml', destinationRule('web', 'web', `    loadBalancer: { consistentHash: { httpHeaderName: x-user } }\n`));
    // Round robin alternates web-v1 / web-v2, so ten answers from one pod mean the hash is in force.
    await until('consistent hashing to be in force', async () => new Set((await load({ url: url('web', '/probe'), count: 10, headers: { 'x-user': 'alice' } })).map((r) => r.pod)).size === 1, 30_000, 300);
    const alice = await load({ url: url('web', '/sticky'), count: 100, headers: { 'x-user': 'alice' } });
    const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    const spread = await load({ url: url('web', '/spread'), count: 100, vary: { header: 'x-user', values: users } });
    const podsOf = new Map<string, Set<string>>();
    spread.forEach((r) => {
      const u = users[r.i % users.length];
      podsOf.set(u, (podsOf.get(u) ?? new Set()).add(String(r.pod)));
    });
    const reached = new Set(spread.map((r) => r.pod));
    const perPod = [...reached].map((p) => `${p}: ${[...podsOf].filter(([, s]) => s.has(String(p))).length} users`).join(', ');
    report(`consistent hash: alice -> ${[...new Set(alice.map((r) => r.pod))].join(',')} over 100; 20 users x 5 -> ${perPod}`);
    expect(alice.every((r) => r.status === 200)).toBe(true);
    expect(new Set(alice.map((r) => r.pod)).size).toBe(1);
    expect(spread.every((r) => r.status === 200)).toBe(true);
    expect([...podsOf.values()].every((s) => s.size === 1)).toBe(true);
    expect([...reached].sort()).toEqual(['web-v1', 'web-v2']);
    world.remove('dr-web.yaml');
  });

  const grpc = async (calls: GrpcCall[]): Promise<GrpcResult[]> => {
    const vip = world.vip('grpc');
    const target = vip.includes(':') ? `[${vip}]:9090` : `${vip}:9090`;
    return (await world.script<{ results: GrpcResult[] }>('client', GRPC_CALLS_JS, [target, JSON.stringify(calls)], 60_000)).results;
  };

  it('regression: a gRPC trailers-only error answer reaches the client (it hung until the deadline)', async () => {
    // The backend answers Fail with one HEADERS frame that ends the stream; the waypoint used to
    // wait for an 'end' that had already happened, and then to send headers and an empty DATA
    // frame ("Call ended without gRPC status").
    const results = await grpc([{ method: 'Hello', name: 'before' }, { method: 'Fail' }, { method: 'Fail' }]);
    report(`grpc without a route: ${results.map((r) => (r.ok ? `Hello->${r.pod}` : `Fail->code ${r.code} "${r.details}" in ${r.ms} ms`)).join('; ')}`);
    expect(results[0]).toMatchObject({ ok: true, pod: 'grpc', said: 'before' });
    for (const r of results.slice(1)) {
      expect(r).toMatchObject({ ok: false, code: 9 /* FAILED_PRECONDITION */, details: 'asked to fail' });
      expect(r.ms).toBeLessThan(5000); // the call's deadline is 10 s
    }
  });

  it('GRPCRoute routes by gRPC method and metadata with a real gRPC client; grpc-status comes back', async () => {
    world.apply(
      'route-grpc.yaml',
      `apiVersion: ambit.dev/v1alpha1
kind: FaultInjection
metadata: { name: grpc-abort, namespace: shop }
spec:
  abort: { grpcStatus: RESOURCE_EXHAUSTED }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: grpc, namespace: shop }
spec:
  parentRefs: [{ group: "", kind: Service, name: grpc, port: 9090 }]
  rules:
    - matches: [{ method: { service: demo.Echo, method: Fail } }]
      backendRefs: [{ name: grpc-b, port: 9090 }]
    - matches: [{ method: { method: Hello }, headers: [{ name: x-canary, value: "yes" }] }]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: { set: [{ name: x-routed, value: canary }] }
      backendRefs: [{ name: grpc-b, port: 9090 }]
    - matches: [{ method: { method: Hello }, headers: [{ name: x-fault, value: "yes" }] }]
      filters:
        - type: ExtensionRef
          extensionRef: { group: ambit.dev, kind: FaultInjection, name: grpc-abort }
      backendRefs: [{ name: grpc, port: 9090 }]
    - backendRefs: [{ name: grpc, port: 9090 }]
`,
    );
    await until('the GRPCRoute to be in force', async () => (await grpc([{ method: 'Fail' }]))[0].details === 'grpc-b: asked to fail', 30_000, 300);
    const results = await grpc([
      { method: 'Hello', name: 'plain-1' },
      { method: 'Fail' },
      { method: 'Hello', name: 'canary', metadata: { 'x-canary': 'yes' } },
      { method: 'Hello', name: 'plain-2' },
      { method: 'Fail' },
      { method: 'Hello', name: 'not-canary', metadata: { 'x-canary': 'no' } },
      { method: 'Hello', name: 'fault', metadata: { 'x-fault': 'yes' } },
    ]);
    report(`grpc with the GRPCRoute: ${results.map((r) => (r.ok ? `${r.said}->${r.pod}` : `code ${r.code} "${r.details}"`)).join('; ')}`);
    const [plain1, failA, canary, plain2, failB, notCanary, fault] = results;
    expect([plain1, plain2, notCanary].map((r) => r.pod)).toEqual(['grpc', 'grpc', 'grpc']);
    expect(canary).toMatchObject({ ok: true, pod: 'grpc-b', said: 'canary' });
    expect(canary.seen?.['x-routed']).toBe('canary');
    for (const f of [failA, failB]) expect(f).toMatchObject({ ok: false, code: 9, details: 'grpc-b: asked to fail' });
    // A status the waypoint answers itself (fault abort) arrives as such, message readable.
    expect(fault).toMatchObject({ ok: false, code: 8 /* RESOURCE_EXHAUSTED */, details: 'fault filter abort' });
    const line = await until('the waypoint to log a routed Fail', () => world.waypointLog().find((l) => l.path === '/demo.Echo/Fail' && l.route_name !== undefined && l.grpc_status === 9));
    expect(line).toMatchObject({ response_code: 200, grpc_status: 9 });
    world.remove('route-grpc.yaml');
  });
});
