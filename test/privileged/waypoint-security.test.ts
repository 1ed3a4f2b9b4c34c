/**
 * The waypoint end to end (issue 5), security and observability, through the real path
 * pod -> agent -> waypoint -> agent -> pod (waypoint-env.ts):
 *
 * - L7 AuthorizationPolicy attached to the waypoint (targetRefs Gateway): DENY by path, ALLOW by
 *   principal + method, `when request.headers[...]`; refusals are 403 "RBAC: access denied".
 * - RequestAuthentication with an inline JWKS: a valid token passes (claims copied to headers, the
 *   token stripped), no token is left to AuthorizationPolicy (403), and an expired, wrong-issuer,
 *   wrong-audience or tampered token is refused with 401 whatever the path.
 * - A real Prometheus, in node2's namespace, scrapes the waypoint pod's :15020 and PromQL counts
 *   exactly the requests sent.
 * - Malformed HTTP (smuggling, oversized headers, broken HTTP/2 frames, rapid reset) is refused with
 *   400 / 431 / GOAWAY, and the waypoint keeps serving.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { statePaths } from '../../cli/local/state-dir';
import { CleanupStack } from '../../common/sandbox';
import { requirePrivileged } from '../harness';
import { until } from './mesh-env';
import { REQUESTS_JS, WaypointWorld, writeWorld, type RequestResult, upWorld, downWorld } from './waypoint-env';
import {
  ensurePrometheus,
  H2_ERROR,
  H2_FRAME,
  H2_GET_JS,
  H2_PREFACE,
  H2_RAPID_RESET_JS,
  h2Frame,
  h2Frames,
  httpGetIn,
  nodePlacement,
  PrometheusServer,
  RAW_TCP_JS,
  tamperPayload,
  tamperSignature,
  TestIssuer,
  type RawReply,
} from './waypoint-security-env';

jest.setTimeout(180_000);

const ISSUER = 'https://issuer.ambit.test';
const WAYPOINT_REF = '[{ kind: Gateway, group: gateway.networking.k8s.io, name: waypoint }]';

const authorizationPolicy = (name: string, action: string, rules: string): string => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: shop }
spec:
  targetRefs: ${WAYPOINT_REF}
  action: ${action}
  rules:
${rules}`;

const log = (line: string): void => void process.stderr.write(`[waypoint-security] ${line}\n`);

describe('waypoint: security and telemetry through pod -> agent -> waypoint -> agent -> pod', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-waypoint-sec-'));
  const config = path.join(tmp, 'config');
  const paths = statePaths(path.join(tmp, 'state'));
  const cleanup = new CleanupStack();
  const world = new WaypointWorld(config, paths, cleanup);
  let issuer: TestIssuer;

  const get = async (pod: string, url: string, count = 1, headers: Record<string, string> = {}, method = 'GET') =>
    (await world.script<{ results: RequestResult[] }>(pod, REQUESTS_JS, [url, String(count), JSON.stringify(headers), method], 30_000 + count * 200)).results;
  const one = async (pod: string, url: string, headers: Record<string, string> = {}, method = 'GET') => (await get(pod, url, 1, headers, method))[0];
  const web = (p: string): string => `http://${world.vip('web')}${p}`;
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
  let payloads = 0;
  const raw = (payload: Buffer, waitMs = 8_000): Promise<RawReply> => {
    const file = path.join(tmp, `payload-${++payloads}.bin`);
    fs.writeFileSync(file, payload);
    return world.script<RawReply>('client', RAW_TCP_JS, [world.vip('web'), '80', file, String(waitMs)], waitMs + 30_000);
  };
  const waypointRestarts = (): number => world.pod('waypoint-0').restarts;
  /** The waypoint still answers a plain request from the client pod. */
  const stillServes = async (): Promise<void> => expect((await one('client', web('/still-serving'))).status).toBe(200);

  beforeAll(async () => {
    requirePrivileged();
    ensurePrometheus();
    issuer = await TestIssuer.create(ISSUER);
    writeWorld(config);
    await upWorld(world, 9, async () => (await one('client', web('/warmup'))).status === 200);
  }, 360_000);

  afterAll(async () => {
    const left = await downWorld(world, tmp);
    if (left) expect(left).toEqual({ netns: [], cgroups: [], pins: [] });
  }, 60_000);

  // Regressions (both found by this file): HTTP/1 on an HBONE stream lost the string data of a
  // batched write (node:http's end() batch), so the waypoint's own replies and upstream requests
  // with a body went out as freed memory; HTTP/2 over HBONE lost its DownstreamContext behind
  // Node's JSStreamSocket and every h2/gRPC request got a bare 500 (waypoint/listener/).
  it('regression: HTTP/1 on an HBONE stream keeps a POST with a body intact, and HTTP/2 over HBONE is routed (200, not 500)', async () => {
    const post = await raw(Buffer.from('POST /with-body HTTP/1.1\r\nHost: web\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world'));
    const text = Buffer.from(post.reply, 'base64').toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toContain('"method":"POST"');
    expect(text).toContain('"body":11');
    const h2 = await world.script<{ statuses: unknown[]; error?: string }>('client', H2_GET_JS, [`http://${world.vip('web')}:80`, '5'], 60_000);
    expect(h2.statuses).toEqual([200, 200, 200, 200, 200]);
    const logged = await until('the waypoint to log the HTTP/2 requests', () => world.waypointLog().find((l) => l.path === '/h2-after/4'), 10_000);
    expect(logged).toMatchObject({ protocol: 'HTTP/2', response_code: 200 });
  });

  describe('L7 AuthorizationPolicy and RequestAuthentication (acceptance 4)', () => {
    it('DENY by path, ALLOW by principal and method, `when request.headers[x-token]`: 403 "RBAC: access denied" otherwise', async () => {
      // Before any policy both pods are served, so every 403 below is the policy's doing.
      expect((await one('client', web('/admin/users'))).status).toBe(200);
      expect((await one('other', web('/hello'))).status).toBe(200);
      world.apply(
        'authz.yaml',
        [
          authorizationPolicy(
            'deny-admin',
            'DENY',
            `    - to: [{ operation: { paths: ["/admin*"] } }]
`,
          ),
          authorizationPolicy(
            'allow-client',
            'ALLOW',
            `    - from: [{ source: { principals: ["cluster.local/ns/shop/sa/client"] } }]
      to: [{ operation: { methods: ["GET"] } }]
    - to: [{ operation: { paths: ["/open"] } }]
      when: [{ key: "request.headers[x-token]", values: ["let-me-in"] }]
`,
          ),
        ].join('---\n'),
      );
      try {
        await until('the DENY policy to apply', async () => (await one('client', web('/admin/users'))).status === 403, 30_000, 300);
        await until('the ALLOW policy to apply', async () => (await one('other', web('/hello'))).status === 403, 30_000, 300);

        const cases: Array<[string, string, string, Record<string, string>, string, number]> = [
          ['client GET /hello', 'client', '/hello', {}, 'GET', 200],
          ['client GET /admin/users (DENY path)', 'client', '/admin/users', {}, 'GET', 403],
          ['client GET /administrator (DENY prefix)', 'client', '/administrator', {}, 'GET', 403],
          ['client POST /hello (ALLOW needs GET)', 'client', '/hello', {}, 'POST', 403],
          ['other GET /hello (not the client principal)', 'other', '/hello', {}, 'GET', 403],
          ['other GET /open x-token: let-me-in', 'other', '/open', { 'x-token': 'let-me-in' }, 'GET', 200],
          ['other GET /open x-token: wrong', 'other', '/open', { 'x-token': 'wrong' }, 'GET', 403],
          ['other GET /open without x-token', 'other', '/open', {}, 'GET', 403],
          ['other POST /open x-token: let-me-in', 'other', '/open', { 'x-token': 'let-me-in' }, 'POST', 200],
        ];
        for (const [what, pod, p, headers, method, status] of cases) {
          const r = await one(pod, web(p), headers, method);
          log(`authz: ${what} -> ${r.status ?? r.error}`);
          expect({ what, status: r.status }).toEqual({ what, status });
          if (status === 403) expect(r.text).toBe('RBAC: access denied');
          else expect(r.pod).toMatch(/^web-v[12]$/);
        }
        const denied = await until('the access log to record the refusal', () =>
          world.waypointLog().find((l) => l.path === '/administrator' && l.response_code === 403),
        10_000);
        log(`authz: access log of a refusal ${JSON.stringify({ flags: denied.response_flags, policy: denied.policy, decision: denied.decision })}`);
        expect(denied).toMatchObject({ response_flags: 'UAEX', policy: 'shop/deny-admin', decision: 'deny' });
      } finally {
        world.remove('authz.yaml');
      }
      await until('the policies to go away', async () => (await one('other', web('/hello'))).status === 200 && (await one('client', web('/admin/users'))).status === 200, 30_000, 300);
    });

    it('JWT: valid token 200 (claims to headers, token stripped); none 403; expired, wrong issuer, wrong audience, tampered 401', async () => {
      world.apply(
        'jwt.yaml',
        `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: shop }
spec:
  targetRefs: ${WAYPOINT_REF}
  jwtRules:
    - issuer: ${ISSUER}
      audiences: [ambit-e2e]
      jwks: ${JSON.stringify(issuer.jwks)}
      outputClaimToHeaders:
        - { header: x-jwt-sub, claim: sub }
        - { header: x-jwt-team, claim: team }
---
${authorizationPolicy(
  'require-jwt',
  'ALLOW',
  `    - from: [{ source: { requestPrincipals: ["${ISSUER}/*"] } }]
      to: [{ operation: { paths: ["/secure*"] } }]
    - to: [{ operation: { notPaths: ["/secure*"] } }]
`,
)}`,
      );
      try {
        const valid = await issuer.sign({ team: 'payments' });
        await until('the JWT policy to apply', async () => (await one('client', web('/secure/data'))).status === 403, 30_000, 300);
        await until('the JWKS to be served', async () => (await one('client', web('/secure/data'), bearer(valid))).status === 200, 30_000, 300);

        const now = Math.floor(Date.now() / 1000);
        const tokens: Record<string, string> = {
          valid,
          expired: await issuer.sign({ iat: now - 7200, exp: now - 3600 }),
          'wrong issuer': await issuer.sign({ iss: 'https://evil.example' }),
          'wrong audience': await issuer.sign({ aud: 'someone-else' }),
          'tampered signature': tamperSignature(valid),
          'tampered payload': tamperPayload(valid),
          'signed by an unknown key': await issuer.sign({}, { withOtherKey: true }),
        };

        const ok = await one('client', web('/secure/data'), bearer(valid));
        log(`jwt: valid -> ${ok.status}, upstream saw x-jwt-sub=${ok.seen?.['x-jwt-sub']} x-jwt-team=${ok.seen?.['x-jwt-team']} authorization=${ok.seen?.authorization}`);
        expect(ok.status).toBe(200);
        expect(ok.seen).toMatchObject({ 'x-jwt-sub': 'alice', 'x-jwt-team': 'payments' });
        // forwardOriginalToken defaults to false: the token does not reach the application.
        expect(ok.seen?.authorization).toBeUndefined();

        // A client cannot forge the claim headers: they are overwritten from the verified token.
        const forged = await one('client', web('/secure/data'), { ...bearer(valid), 'x-jwt-sub': 'root' });
        expect(forged.seen?.['x-jwt-sub']).toBe('alice');

        const none = await one('client', web('/secure/data'));
        log(`jwt: no token -> ${none.status} ${JSON.stringify(none.text)}`);
        expect(none.status).toBe(403);
        expect(none.text).toBe('RBAC: access denied');
        // Off the protected path a request without a token is fine.
        expect((await one('client', web('/public'))).status).toBe(200);

        const reasons: Record<string, RegExp> = {
          expired: /^Jwt is expired$/,
          'wrong issuer': /^Jwt issuer is not configured/,
          'wrong audience': /^Audiences in Jwt are not allowed/,
          'tampered signature': /^Jwt verification fails$/,
          'tampered payload': /^Jwt verification fails$/,
          'signed by an unknown key': /^Jwt verification fails$|^Jwks doesn't have key/,
        };
        for (const [what, reason] of Object.entries(reasons)) {
          // An invalid token is refused on every path, the unprotected one included (Istio).
          for (const p of ['/secure/data', '/public']) {
            const r = await one('client', web(p), bearer(tokens[what]));
            log(`jwt: ${what} on ${p} -> ${r.status} ${JSON.stringify(r.text)}`);
            expect({ what, p, status: r.status }).toEqual({ what, p, status: 401 });
            expect(r.text).toMatch(reason);
            expect(r.resp?.['www-authenticate']).toMatch(/^Bearer realm=".*", error="invalid_token"$/);
          }
        }
        // The token's source does not matter: the default access_token query parameter works too.
        expect((await one('client', web(`/secure/q?access_token=${valid}`))).status).toBe(200);
        expect((await one('client', web(`/secure/q?access_token=${tokens.expired}`))).status).toBe(401);
      } finally {
        world.remove('jwt.yaml');
      }
      await until('the JWT policies to go away', async () => (await one('client', web('/secure/data'))).status === 200, 30_000, 300);
    });
  });

  it('a real Prometheus scrapes the waypoint; PromQL counts exactly the requests sent (acceptance 6)', async () => {
    const node2 = world.status()!.nodes.find((n) => n.name === 'node2');
    if (!node2) throw new Error('no node2 in status.json');
    const waypointIp = world.pod('waypoint-0').podIPs.find((ip) => !ip.includes(':'));
    expect(waypointIp).toBeDefined();
    const prom = await PrometheusServer.start(nodePlacement(node2), cleanup, fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-prom-')), [`${waypointIp}:15020`]);
    log(`prometheus pid ${prom.pid} in ${node2.netns}, scraping ${waypointIp}:15020`);
    try {
      await countedByPrometheus(prom, String(waypointIp));
    } finally {
      await prom.stop();
    }
    expect(fs.existsSync(prom.dir)).toBe(false);
  });

  async function countedByPrometheus(prom: PrometheusServer, waypointIp: string): Promise<void> {
    const up = await until(
      'prometheus to scrape the waypoint (up == 1)',
      async () => {
        const s = await prom.query('up{job="waypoint"}');
        return s.length === 1 && s[0].value[1] === '1' ? s[0] : undefined;
      },
      60_000,
      500,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nprometheus log:\n${prom.log()}`);
    });
    expect(up.metric.instance).toBe(`${waypointIp}:15020`);

    // Only this test sends to the mirror service, so its series count nothing else.
    const ok200 = 'sum(istio_requests_total{reporter="waypoint",destination_service_name="mirror",response_code="200"})';
    const byCode = 'sum by (response_code) (istio_requests_total{reporter="waypoint",destination_service_name="mirror"})';
    expect(await prom.query(ok200)).toEqual([]);

    const SENT_OK = 37;
    const SENT_404 = 5;
    const mirror = `http://${world.vip('mirror')}`;
    const sent = [...(await get('client', `${mirror}/counted`, SENT_OK)), ...(await get('client', `${mirror}/status/404`, SENT_404))];
    expect(sent.map((r) => r.status)).toEqual([...Array(SENT_OK).fill(200), ...Array(SENT_404).fill(404)]);

    const t0 = Date.now();
    const counted = await until(
      `PromQL to count ${SENT_OK} requests`,
      async () => {
        const s = await prom.query(ok200);
        return s.length === 1 && Number(s[0].value[1]) === SENT_OK ? s : undefined;
      },
      30_000,
      500,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}; last answer ${JSON.stringify(await prom.query(byCode))}`);
    });
    log(`prometheus: ${ok200} = ${counted[0].value[1]} after ${Date.now() - t0} ms (sent ${SENT_OK})`);
    // Several scrapes later the count has not drifted, and the 404s are counted apart.
    await new Promise((r) => setTimeout(r, 3_000));
    const codes = Object.fromEntries((await prom.query(byCode)).map((s) => [s.metric.response_code, Number(s.value[1])]));
    log(`prometheus: by response_code ${JSON.stringify(codes)}`);
    expect(codes).toEqual({ '200': SENT_OK, '404': SENT_404 });
    const src = await prom.query('sum by (source_principal, destination_workload) (istio_requests_total{reporter="waypoint",destination_service_name="mirror"})');
    expect(src.map((s) => s.metric)).toEqual([{ source_principal: 'spiffe://cluster.local/ns/shop/sa/client', destination_workload: 'mirror' }]);
  }

  // Known bug, pinned: the control plane sends a waypoint only the workloads of its services
  // (control-plane/push/waypoint-scope.ts) and the waypoint looks the client up by address
  // (pipeline.ts clientAddress -> view.workloadAt), ignoring the `baggage` the source agent sends:
  // every source_workload / source_app / source_canonical_service is "unknown". Flip to `it` when fixed.
  it('waypoint metrics name the source workload (source_workload="client", from the tunnel baggage)', async () => {
    await until('a request to be counted', async () => (await one('client', `http://${world.vip('mirror')}/source`)).status === 200, 10_000);
    const node2 = world.status()!.nodes.find((n) => n.name === 'node2')!;
    const ip = world.pod('waypoint-0').podIPs.find((x) => !x.includes(':'))!;
    const text = await httpGetIn(nodePlacement(node2), cleanup, `http://${ip}:15020/metrics`);
    const line = (text.body ?? '').split('\n').find((l) => l.startsWith('istio_requests_total{') && l.includes('destination_service_name="mirror"'));
    expect(line).toContain('source_workload="client"');
  });

  describe('malformed HTTP is refused and the waypoint keeps serving (acceptance 7)', () => {
    let restartsBefore: number;
    beforeAll(() => {
      restartsBefore = waypointRestarts();
    });
    afterAll(() => {
      // Nothing below may crash the waypoint: the same process served it all.
      expect(waypointRestarts()).toBe(restartsBefore);
    });

    it('request smuggling (Content-Length + Transfer-Encoding: chunked) -> 400, connection closed, nothing smuggled', async () => {
      const smuggle = Buffer.from(
        'POST /upload HTTP/1.1\r\nHost: web\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: web\r\n\r\n',
      );
      const r = await raw(smuggle);
      const text = Buffer.from(r.reply, 'base64').toString('latin1');
      log(`smuggling -> ${JSON.stringify(text.split('\r\n')[0])}, closed ${r.closed} after ${r.ms} ms`);
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
      expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
      expect(r.closed).toBe(true);
      // Neither request reached the application.
      await new Promise((res) => setTimeout(res, 500));
      expect(world.waypointLog().some((l) => l.path === '/smuggled' || l.path === '/upload')).toBe(false);
      await stillServes();
    });

    it('a 100 KiB header (limit 60 KiB) -> 431', async () => {
      const big = Buffer.from(`GET /big HTTP/1.1\r\nHost: web\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
      const r = await raw(big);
      const text = Buffer.from(r.reply, 'base64').toString('latin1');
      log(`100 KiB header -> ${JSON.stringify(text.split('\r\n')[0])}, closed ${r.closed} (${r.error ?? 'no error'}) after ${r.ms} ms`);
      expect(text).toMatch(/^HTTP\/1\.1 431 /);
      // The waypoint's own answer (http-front.ts clientError), not the application's.
      expect(text).toMatch(/\r\n\r\nRequest Header Fields Too Large: .*Header overflow/);
      expect(r.closed).toBe(true);
      // Under the waypoint's limit the request is proxied: 50 KiB reaches the application (whose
      // Node default of 16 KiB refuses it; its 431 has no body), 12 KiB is served.
      const near = await one('client', web('/near-limit'), { 'x-big': 'a'.repeat(50 * 1024) });
      const proxied = await until('the waypoint to log the 50 KiB request', () => world.waypointLog().find((l) => l.path === '/near-limit'), 10_000);
      log(`50 KiB header -> ${near.status} ${JSON.stringify(near.text)}, proxied to ${String(proxied.upstream_host)}`);
      expect(proxied.upstream_host).toMatch(/:8080$/);
      expect((await one('client', web('/fits'), { 'x-big': 'a'.repeat(12 * 1024) })).status).toBe(200);
      expect(world.waypointLog().some((l) => l.path === '/big')).toBe(false);
      await stillServes();
    });

    const goawayOf = (r: RawReply): { frames: string[]; goaway?: number } => {
      const frames = h2Frames(Buffer.from(r.reply, 'base64'));
      const g = frames.find((f) => f.type === H2_FRAME.GOAWAY);
      return { frames: frames.map((f) => `type ${f.type}`), goaway: g?.payload.readUInt32BE(4) };
    };

    it('HTTP/2 preface then a malformed frame (SETTINGS of 5 bytes) -> GOAWAY FRAME_SIZE_ERROR', async () => {
      const settings = h2Frame(H2_FRAME.SETTINGS, 0, 0, Buffer.alloc(0));
      const bad = h2Frame(H2_FRAME.SETTINGS, 0, 0, Buffer.alloc(5));
      const r = await raw(Buffer.concat([H2_PREFACE, settings, bad]));
      const { frames, goaway } = goawayOf(r);
      log(`h2 malformed SETTINGS -> frames [${frames.join(', ')}], GOAWAY code ${goaway}, closed ${r.closed} after ${r.ms} ms`);
      // RFC 9113 §6.5: a SETTINGS length that is not a multiple of 6 is a connection error FRAME_SIZE_ERROR.
      // (nghttp2 terminates the session with GOAWAY; Node leaves the connection to the idle timeout.)
      expect(goaway).toBe(H2_ERROR.FRAME_SIZE_ERROR);
      await stillServes();
    });

    it('HTTP/2 PING on a stream (a connection-level frame) -> GOAWAY with an error code', async () => {
      const settings = h2Frame(H2_FRAME.SETTINGS, 0, 0, Buffer.alloc(0));
      const ping = h2Frame(H2_FRAME.PING, 0, 5, Buffer.from('garbage!'));
      const r = await raw(Buffer.concat([H2_PREFACE, settings, ping]));
      const { frames, goaway } = goawayOf(r);
      log(`h2 PING on stream 5 -> frames [${frames.join(', ')}], GOAWAY code ${goaway}, closed ${r.closed} after ${r.ms} ms`);
      // RFC 9113 §6.7 makes this a connection error; Node ends such a session with INTERNAL_ERROR.
      expect(goaway).toBeGreaterThan(0);
      expect(r.closed).toBe(true);
      await stillServes();
    });

    it('HTTP/2 preface then garbage -> GOAWAY with an error code, connection closed', async () => {
      const r = await raw(Buffer.concat([H2_PREFACE, Buffer.from('this is not HTTP/2 at all\r\n\r\n'.repeat(8))]));
      const { frames, goaway } = goawayOf(r);
      log(`h2 preface + garbage -> frames [${frames.join(', ')}], GOAWAY code ${goaway}, closed ${r.closed} after ${r.ms} ms`);
      expect(goaway).toBeGreaterThan(0);
      expect(r.closed).toBe(true);
      await stillServes();
    });

    it('HTTP/2 rapid reset (500 streams opened and cancelled at once) -> GOAWAY ENHANCE_YOUR_CALM; HTTP/2 still served after', async () => {
      const r = await world.script<{ goaway: number | null; closed: boolean; responses: number; sent: number; sessionError?: string; ms: number }>(
        'client',
        H2_RAPID_RESET_JS,
        [`http://${world.vip('web')}:80`, '500'],
        60_000,
      );
      log(`rapid reset -> ${JSON.stringify(r)}`);
      expect(r.sent).toBe(500);
      expect(r.closed).toBe(true);
      expect(r.goaway).toBe(H2_ERROR.ENHANCE_YOUR_CALM);
      const after = await world.script<{ statuses: unknown[]; error?: string }>('client', H2_GET_JS, [`http://${world.vip('web')}:80`, '5'], 60_000);
      expect(after.statuses).toEqual([200, 200, 200, 200, 200]);
      await stillServes();
    });
  });
});
