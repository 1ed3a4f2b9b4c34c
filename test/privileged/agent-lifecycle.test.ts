/**
 * The node agent's lifecycle, end to end with real eBPF on two simulated nodes, as a user runs it
 * (`ambit local up` from the TypeScript sources, a watched YAML directory, unmodified apps):
 *
 *   - AuthorizationPolicy: DENY and ALLOW-list semantics as Istio's, counted (response_flags DENY)
 *     and logged with the policy's name; a policy added while a connection is open closes it
 *     within 1 s of the config reaching the agent;
 *   - certificate rotation under load (8 s certificates, refreshed at half-life): no failed
 *     request, no dropped long-lived connection; a peer with another trust domain, another CA, or
 *     an unexpected identity is refused in the mTLS handshake;
 *   - a pod added is captured before its container starts (its first connection is in the mesh);
 *     a pod removed leaves no listener and no sk_lookup link behind; an agent killed with -9 is
 *     restarted, resyncs its pods from the runtime's snapshot and captures new connections again;
 *     while it is down its pinned capture stays and fails closed (no connection of a mesh pod
 *     gets through, so none in plaintext), and the new agent re-adopts the same links;
 *   - `down` leaves no pin and no link of the runtime behind.
 *
 * One runtime for the whole file; afterAll removes it through the same teardown `down` uses, also
 * when a test failed half-way. Every connection goes to loopback or to addresses in namespaces
 * this runtime created. Timings measured are printed on stderr.
 */
import { ChildProcess, execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { statePaths } from '../../cli/local/state-dir';
import { teardownRuntime } from '../../cli/local/teardown';
import { connectHbone, HBONE_DEFAULTS, requestTunnel, type DialFn } from '../../common/hbone';
import { Native } from '../../common/native/addon';
import { projectRoot } from '../../common/project-root';
import { CleanupStack, execIn, listLeftovers, spawnIn } from '../../common/sandbox';
import { requirePrivileged } from '../harness';
import { TestCa, withTrustBundle } from '../support/test-ca';
import { cgroupId } from '../../common/cgroup2';
import { readRuntimeRecord } from '../../cli/local/teardown';
import { links, programs } from './bpf-inspect';
import {
  allowOnlyClientPolicy,
  CONNECT_PROBE_JS,
  denyOtherPolicy,
  httpGet,
  LOAD_JS,
  metricSum,
  mintMeshLeaf,
  REQUEST_JS,
  SERVER_HTTP_PORT,
  SERVER_TCP_PORT,
  STARTER_YAML,
  STREAM_CLIENT_JS,
  World,
  writeWorld,
} from './lifecycle-env';

jest.setTimeout(60_000);

const ROOT = projectRoot();
const REGISTER = path.join(ROOT, 'test', 'fixtures', 'ts-register.js');
const CLI = path.join(ROOT, 'cli', 'ambit.ts');
const ANY_PORTS = ['--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0'];
const TD = 'cluster.local';
const id = (ns: string, sa: string): string => `spiffe://${TD}/ns/${ns}/sa/${sa}`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const note = (line: string): void => void process.stderr.write(`[agent-lifecycle] ${line}\n`);

interface Answer {
  status?: number;
  body?: string;
  error?: string;
  ms: number;
}

/** The parts of the agent's /config_dump this file reads. */
interface ConfigDump {
  config: { authorizations: Array<{ name: string }> };
  pods: Array<{ name: string }>;
  certificates: Array<{ identity: string; notAfter: string }>;
}

/** A process in a pod printing JSON lines (the stream client), collected as they come. */
class LineProcess {
  readonly lines: Array<Record<string, unknown>> = [];
  private rest = '';
  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      const parts = (this.rest + d).split('\n');
      this.rest = parts.pop() ?? '';
      for (const p of parts) if (p.startsWith('{')) this.lines.push(JSON.parse(p) as Record<string, unknown>);
    });
  }
  find(ev: string): Record<string, unknown> | undefined {
    return this.lines.find((l) => l.ev === ev);
  }
  lastTick(): Record<string, unknown> | undefined {
    return [...this.lines].reverse().find((l) => l.ev === 'tick');
  }
}

describe('agent lifecycle: policy, rotation, pods and agents coming and going', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-lifecycle-'));
  const config = path.join(tmp, 'config');
  const paths = statePaths(path.join(tmp, 'state'));
  const world = new World(paths);
  const cleanup = new CleanupStack();
  const heldFds: number[] = [];
  let serverVip = '';
  let serverIP = '';

  const admin = (node: string, p: string): string => `http://${world.agentHost(node)}:15000${p}`;
  const metricsText = async (node: string): Promise<string> => (await httpGet(`http://${world.agentHost(node)}:15020/metrics`)).body;
  const configDump = async (node: string): Promise<ConfigDump> => JSON.parse((await httpGet(admin(node, '/config_dump'))).body) as ConfigDump;

  /** One GET from inside `pod` (its netns and cgroup: captured), on a new connection. */
  async function request(pod: string, url: string): Promise<Answer> {
    const r = await execIn(world.placement(pod), cleanup, process.execPath, ['-e', REQUEST_JS, url], { timeoutMs: 15_000 });
    return JSON.parse(r.stdout.trim()) as Answer;
  }

  function streamFrom(pod: string, host: string, periodMs: number, pad = 0): LineProcess {
    const child = spawnIn(world.placement(pod), cleanup, process.execPath, ['-e', STREAM_CLIENT_JS, host, String(SERVER_TCP_PORT), String(periodMs), String(pad)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new LineProcess(child);
  }

  /** Stops a stream client (SIGTERM to the process this test started) and returns its last word. */
  async function finish(p: LineProcess): Promise<Record<string, unknown>> {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    return until('the stream client to report', () => p.find('final') ?? p.find('closed'), 10_000);
  }

  /** Waits until the node's agent has the policy (or no longer has it) in its config. */
  async function policyOnAgent(node: string, name: string, present: boolean): Promise<void> {
    await until(`${node}'s agent to ${present ? 'receive' : 'drop'} policy ${name}`, async () => {
      return (await configDump(node)).config.authorizations.some((a) => a.name === name) === present;
    });
  }

  const writeConfig = (file: string, text: string): void => fs.writeFileSync(path.join(config, file), text);
  const removeConfig = (file: string): void => fs.rmSync(path.join(config, file), { force: true });

  beforeAll(async () => {
    requirePrivileged();
    writeWorld(config);
    const t0 = Date.now();
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['-r', REGISTER, CLI, 'local', 'up', '-f', config, '--state-dir', paths.dir, '--wait', '30', ...ANY_PORTS],
        // Reaches the agents: 8 s certificates, refreshed at half-life (every ~4 s).
        { timeout: 100_000, killSignal: 'SIGKILL', encoding: 'utf8', env: { ...process.env, AMBIT_CERT_VALIDITY_SECONDS: '8' } },
        (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number((err as { code?: unknown }).code ?? -1), stdout, stderr }),
      );
    });
    if (r.code !== 0) throw new Error(`ambit local up failed (${r.code}): ${r.stderr}\n${r.stdout}`);
    await until('all pods ready and enrolled', () => {
      const pods = world.status()?.pods ?? [];
      return pods.length === 3 && pods.every((p) => p.ready && p.enrolled === 'enrolled');
    }, 30_000);
    for (const node of ['node1', 'node2']) {
      await until(`${node}'s agent to be ready`, async () => (await httpGet(`http://${world.agentHost(node)}:15021/healthz/ready`).catch(() => ({ status: 0 }))).status === 200);
    }
    serverVip = world.status()!.services.find((s) => s.name === 'server')!.clusterIP;
    serverIP = world.pod('server')!.podIPs[0];
    note(`runtime up and ready in ${Date.now() - t0} ms`);
  }, 150_000);

  afterAll(async () => {
    await cleanup.runAll();
    for (const fd of heldFds.splice(0)) fs.closeSync(fd);
    await teardownRuntime(paths, { print: () => {} });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('carries both clients to the server over mTLS, with both principals in the access logs', async () => {
    for (const [pod, sa, ns] of [
      ['client', 'client', 'mesh'],
      ['other-client', 'other', 'other'],
    ]) {
      const a = await request(pod, `http://${serverVip}:${SERVER_HTTP_PORT}/hello`);
      expect(a).toMatchObject({ status: 200 });
      expect(JSON.parse(a.body!)).toMatchObject({ pod: 'server', url: '/hello' });
      const inbound = await until(`node2's access log line for ${pod}`, () =>
        world.accessLog('node2').find((l) => l.direction === 'inbound' && l['src.workload'] === pod),
      );
      expect(inbound).toMatchObject({ 'src.identity': id(ns, sa), 'dst.identity': id('mesh', 'server'), response_flags: '-' });
    }
  });

  describe('AuthorizationPolicy', () => {
    it('DENY from namespace other: the other client is refused without a response, counted and logged; mesh still works', async () => {
      const before = metricSum(await metricsText('node2'), 'istio_tcp_connections_opened_total', {
        reporter: 'destination',
        source_principal: id('other', 'other'),
        response_flags: 'DENY',
      });
      writeConfig('deny-other.yaml', denyOtherPolicy('deny-other'));
      await policyOnAgent('node2', 'deny-other', true);

      const denied = await request('other-client', `http://${serverVip}:${SERVER_HTTP_PORT}/denied`);
      expect(denied.status).toBeUndefined();
      expect(denied.error).toMatch(/ECONNRESET|socket hang up/);
      const byPod = await request('other-client', `http://${serverIP}:${SERVER_HTTP_PORT}/denied-by-pod-ip`);
      expect(byPod.error).toMatch(/ECONNRESET|socket hang up/);
      expect(await request('client', `http://${serverVip}:${SERVER_HTTP_PORT}/allowed`)).toMatchObject({ status: 200 });

      const after = metricSum(await metricsText('node2'), 'istio_tcp_connections_opened_total', {
        reporter: 'destination',
        source_principal: id('other', 'other'),
        destination_principal: id('mesh', 'server'),
        response_flags: 'DENY',
      });
      expect(after - before).toBe(2);
      const line = await until('the DENY access-log line', () =>
        world.accessLog('node2').find((l) => l['src.workload'] === 'other-client' && l.response_flags === 'DENY'),
      );
      expect(line).toMatchObject({ direction: 'inbound', policy: 'mesh/deny-other', 'src.identity': id('other', 'other'), bytes_recv: 0 });
      expect(String(line.error)).toMatch(/denied by DENY policy mesh\/deny-other/);

      removeConfig('deny-other.yaml');
      await policyOnAgent('node2', 'deny-other', false);
      expect(await request('other-client', `http://${serverVip}:${SERVER_HTTP_PORT}/again`)).toMatchObject({ status: 200 });
    });

    it('ALLOW only principal mesh/sa/client: the other client is denied, the mesh client allowed; removing it restores access', async () => {
      writeConfig('allow-client.yaml', allowOnlyClientPolicy('allow-client'));
      await policyOnAgent('node2', 'allow-client', true);
      const denied = await request('other-client', `http://${serverVip}:${SERVER_HTTP_PORT}/not-allowed`);
      expect(denied.error).toMatch(/ECONNRESET|socket hang up/);
      expect(await request('client', `http://${serverVip}:${SERVER_HTTP_PORT}/allowed`)).toMatchObject({ status: 200 });
      const line = await until('the ALLOW-miss access-log line', () =>
        world.accessLog('node2').find((l) => l['src.workload'] === 'other-client' && l.response_flags === 'DENY' && l.policy !== 'mesh/deny-other'),
      );
      // No ALLOW policy matched: there is no one policy to name; the reason lists the applicable ones.
      expect(String(line.error)).toMatch(/no ALLOW policy matched \(applicable: mesh\/allow-client\)/);
      note(`ALLOW-miss access log: policy=${String(line.policy)} error=${String(line.error)}`);

      removeConfig('allow-client.yaml');
      await policyOnAgent('node2', 'allow-client', false);
      expect(await request('other-client', `http://${serverVip}:${SERVER_HTTP_PORT}/restored`)).toMatchObject({ status: 200 });
    });

    it('a DENY policy added while a connection is open closes it within 1 s of the config reaching the agent', async () => {
      const stream = streamFrom('other-client', serverVip, 50);
      await until('the long-lived connection to echo', () => Number(stream.lastTick()?.echoed ?? 0) > 20, 15_000);
      const appliedBefore = world.agentLog('node2').filter((l) => l.msg === 'config applied').length;

      const written = Date.now();
      writeConfig('deny-live.yaml', denyOtherPolicy('deny-live'));
      const closed = await until('the open connection to be closed', () => stream.find('closed'), 15_000);
      const applied = await until('the config applied line that closed it', () =>
        world
          .agentLog('node2')
          .filter((l) => l.msg === 'config applied')
          .slice(appliedBefore)
          .find((l) => Number(l.closedByPolicy) >= 1),
      );
      const appliedAt = Date.parse(String(applied.time));
      const closedAt = Number(closed.t);
      note(
        `policy close: file written -> config applied on node2 ${appliedAt - written} ms; ` +
          `config applied -> client saw the close ${closedAt - appliedAt} ms; file written -> close ${closedAt - written} ms`,
      );
      expect(closedAt - appliedAt).toBeLessThan(1_000);
      expect(closedAt - written).toBeLessThan(5_000);
      expect(closed.mismatch).toBe(false);

      const line = await until('the access-log line of the closed connection', () =>
        world.accessLog('node2').find((l) => l['src.workload'] === 'other-client' && l.policy === 'mesh/deny-live'),
      );
      expect(line).toMatchObject({ response_flags: 'DENY', direction: 'inbound' });
      expect(Number(line.bytes_recv)).toBeGreaterThan(0); // it carried data before the policy came
      expect(String(line.error)).toMatch(/policy change/);

      removeConfig('deny-live.yaml');
      await policyOnAgent('node2', 'deny-live', false);
    });
  });

  describe('certificates', () => {
    it('rotate under load (8 s TTL): no failed request and no dropped long-lived connection across two rotations', async () => {
      const certOf = async (node: string, who: string): Promise<{ notAfter: string }> =>
        (await configDump(node)).certificates.find((c) => c.identity === who)!;
      const clientBefore = await certOf('node1', id('mesh', 'client'));
      const serverBefore = await certOf('node2', id('mesh', 'server'));

      const t0 = Date.now();
      const streams = [streamFrom('client', serverVip, 50, 1024), streamFrom('client', serverIP, 50, 1024)];
      await until('both long-lived connections to echo', () => streams.every((s) => Number(s.lastTick()?.echoed ?? 0) > 0), 10_000);
      const load = await execIn(world.placement('client'), cleanup, process.execPath, ['-e', LOAD_JS, `http://${serverVip}:${SERVER_HTTP_PORT}/load`, '11000', '200', '4'], {
        timeoutMs: 40_000,
      });
      const result = JSON.parse(load.stdout.trim()) as { ok: number; failed: number; errors: Record<string, number>; first: number; last: number };
      const finals = await Promise.all(streams.map((s) => finish(s)));
      const t1 = Date.now();

      const rotatedIn = (node: string, who: string): number =>
        world.agentLog(node).filter((l) => l.msg === 'certificate rotated' && l.identity === who && Date.parse(String(l.time)) >= t0 && Date.parse(String(l.time)) <= t1).length;
      const clientRotations = rotatedIn('node1', id('mesh', 'client'));
      const serverRotations = rotatedIn('node2', id('mesh', 'server'));
      note(
        `rotation under load: ${result.ok + result.failed} requests in ${result.last - result.first} ms, ${result.failed} failed ${JSON.stringify(result.errors)}; ` +
          `rotations client ${clientRotations}, server ${serverRotations}; streams ${finals.map((f) => `${String(f.ev)} sent ${String(f.sent)} echoed ${String(f.echoed)}`).join(', ')}`,
      );
      expect(result.failed).toBe(0);
      expect(result.errors).toEqual({});
      expect(result.ok).toBeGreaterThanOrEqual(200);
      expect(clientRotations).toBeGreaterThanOrEqual(2);
      expect(serverRotations).toBeGreaterThanOrEqual(2);
      for (const f of finals) {
        expect(f).toMatchObject({ ev: 'final', open: true, mismatch: false });
        expect(f.echoed).toBe(f.sent);
        expect(Number(f.sent)).toBeGreaterThan(100 * 1024);
      }
      // The streams outlived the certificates they were opened with.
      expect(Date.now()).toBeGreaterThan(Date.parse(clientBefore.notAfter));
      expect((await certOf('node1', id('mesh', 'client'))).notAfter).not.toBe(clientBefore.notAfter);
      expect((await certOf('node2', id('mesh', 'server'))).notAfter).not.toBe(serverBefore.notAfter);
    });

    describe('a peer the mesh must refuse (HBONE client from the node2 netns, not captured)', () => {
      let nodeFd = -1;
      const dial: DialFn = async (address, port) => {
        const fd = await Native.createSocket({ netnsFd: nodeFd, family: 4 });
        const sock = new net.Socket({ fd });
        return new Promise<net.Socket>((resolve, reject) => {
          sock.once('error', reject);
          sock.connect(port, address, () => {
            sock.off('error', reject);
            resolve(sock);
          });
        });
      };
      const connect = (source: Parameters<typeof connectHbone>[0]['source'], expected: string) =>
        connectHbone({
          source,
          address: serverIP,
          port: 15008,
          expected: [expected],
          dial,
          connectTimeoutMs: 5_000,
          streamWindowBytes: HBONE_DEFAULTS.streamWindowBytes,
          connectionWindowBytes: HBONE_DEFAULTS.connectionWindowBytes,
        });

      beforeAll(() => {
        nodeFd = fs.openSync(`/run/netns/${world.node('node2')!.netns}`, 'r');
        heldFds.push(nodeFd);
      });

      it('control: a leaf of the mesh CA for mesh/sa/client, expecting mesh/sa/server, gets a tunnel to the app', async () => {
        const cert = await mintMeshLeaf(paths.controlPlane, 'mesh', 'client');
        const conn = await connect(cert, id('mesh', 'server'));
        try {
          expect(conn.peer.uri).toBe(id('mesh', 'server'));
          const stream = await requestTunnel(conn.session, `${serverIP}:${SERVER_HTTP_PORT}`, undefined, 'test');
          stream.setEncoding('utf8');
          let reply = '';
          stream.on('data', (d: string) => (reply += d));
          stream.end(`GET /via-test-hbone HTTP/1.1\r\nhost: server\r\nconnection: close\r\n\r\n`);
          await until('the app to answer through the tunnel', () => reply.includes('via-test-hbone'), 5_000);
          expect(reply).toMatch(/^HTTP\/1\.1 200/);
        } finally {
          conn.session.destroy();
        }
      });

      it('refuses a client certificate from another trust domain, and one from another CA for cluster.local', async () => {
        const meshRoot = (await mintMeshLeaf(paths.controlPlane, 'mesh', 'client')).trustBundlePem;
        // Our side trusts the mesh root, so only the server's check can refuse.
        const foreign = await TestCa.create('evil.example');
        const foreignCert = withTrustBundle(await foreign.issue('mesh', 'client'), meshRoot);
        await expect(connect(foreignCert, id('mesh', 'server'))).rejects.toMatchObject({ code: 'AMBIT_ERR_HBONE_HANDSHAKE' });
        const impostor = await TestCa.create(TD);
        const impostorCert = withTrustBundle(await impostor.issue('mesh', 'client'), meshRoot);
        await expect(connect(impostorCert, id('mesh', 'server'))).rejects.toMatchObject({ code: 'AMBIT_ERR_HBONE_HANDSHAKE' });
        // And a server proving an identity we do not trust the root of is refused by our side.
        const trustsOnlyForeign = withTrustBundle(await foreign.issue('mesh', 'client'), foreign.bundle);
        await expect(connect(trustsOnlyForeign, id('mesh', 'server'))).rejects.toMatchObject({ code: 'AMBIT_ERR_HBONE_HANDSHAKE' });
      });

      it('the client refuses the server when it is not the identity it expected (SPIFFE check)', async () => {
        const cert = await mintMeshLeaf(paths.controlPlane, 'mesh', 'client');
        const err = (await connect(cert, id('mesh', 'somebody-else')).then(
          () => new Error('connected'),
          (e: Error) => e,
        )) as Error & { code?: string };
        expect(err.code).toBe('AMBIT_ERR_TLS_PEER_IDENTITY');
        expect(err.message).toContain(id('mesh', 'server'));
        expect(err.message).toContain(id('mesh', 'somebody-else'));
      });
    });
  });

  describe('pods and agents coming and going', () => {
    let starterNetnsIno = 0;
    let starterNetns = '';

    it('a pod added to the directory is captured before its container starts: its very first connection is in the mesh', async () => {
      const added = Date.now();
      writeConfig('starter.yaml', STARTER_YAML);
      const pod = await until('the new pod to run, enrolled', () => {
        const p = world.pod('starter');
        return p?.phase === 'Running' && p.enrolled === 'enrolled' ? p : undefined;
      }, 45_000);
      const first = await until('its first connection to finish', () => {
        const line = world.containerLog('mesh', 'starter', 'main').split('\n').find((l) => l.startsWith('{'));
        return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
      }, 20_000);
      note(`pod added: running and enrolled ${Date.now() - added} ms after the file was written; first request took ${String(first.ms)} ms`);
      expect(first).toMatchObject({ first: 'ok', status: 200, body: { pod: 'server', url: '/first-connection' } });

      const out = await until('the outbound access-log line of the first connection', () =>
        world.accessLog('node1').find((l) => l['src.workload'] === 'starter'),
      );
      expect(out).toMatchObject({
        direction: 'outbound',
        'src.identity': id('mesh', 'starter'),
        'dst.identity': id('mesh', 'server'),
        // As ztunnel logs it: the endpoint it picked, and the service it picked it for.
        'dst.addr': `${serverIP}:${SERVER_HTTP_PORT}`,
        'dst.service': 'server.mesh.svc.cluster.local',
        response_flags: '-',
      });
      const inb = await until('the inbound access-log line', () => world.accessLog('node2').find((l) => l['src.workload'] === 'starter'));
      expect(inb).toMatchObject({ direction: 'inbound', 'src.identity': id('mesh', 'starter') });
      // The agent enrolled the pod before the container process existed.
      const enrolled = world.agentLog('node1').find((l) => l.msg === 'pod enrolled' && l.pod === 'mesh/starter');
      expect(enrolled).toBeDefined();
      const startedAt = Number(first.started);
      note(`starter: agent enrolled it at ${String(enrolled!.time)}; its script started at ${new Date(startedAt).toISOString()}`);
      expect(Date.parse(String(enrolled!.time))).toBeLessThanOrEqual(startedAt);

      starterNetns = pod.netns!;
      starterNetnsIno = fs.statSync(`/run/netns/${starterNetns}`).ino;
      expect(links().filter((l) => l.type === 'netns' && l.netns_ino === starterNetnsIno)).toHaveLength(1);
    });

    it('a pod removed from the directory leaves no listener, no sk_lookup link and no agent state behind', async () => {
      expect(starterNetnsIno).toBeGreaterThan(0);
      // Keep the netns alive past its deletion, to look inside it afterwards: what the agent left
      // in it (listeners, the sk_lookup link) would otherwise vanish with it and prove nothing.
      const held = fs.openSync(`/run/netns/${starterNetns}`, 'r');
      heldFds.push(held);
      const inHeld = (cmd: string, args: string[]): string =>
        execFileSync('nsenter', [`--net=/proc/${process.pid}/fd/${held}`, '--', cmd, ...args], { encoding: 'utf8' });
      expect(inHeld('ss', ['-Hltn'])).toMatch(/:15008\b/);
      const agentPid = world.node('node1')!.agent!.pid!;
      const agentHoldsNetns = (): boolean =>
        fs.readdirSync(`/proc/${agentPid}/fd`).some((fd) => {
          try {
            return fs.statSync(`/proc/${agentPid}/fd/${fd}`).ino === starterNetnsIno;
          } catch {
            return false; // closed meanwhile
          }
        });
      expect(agentHoldsNetns()).toBe(true);
      expect(metricSum(await metricsText('node1'), 'ambit_agent_enrolled_pods', {})).toBe(3);

      const removed = Date.now();
      removeConfig('starter.yaml');
      await until('the pod to leave status', () => world.status() !== undefined && world.pod('starter') === undefined);
      await until('its netns name to be gone', () => !listLeftovers(world.status()!.runtime.prefix).netns.includes(starterNetns));
      await until('the agent to forget it', async () => !(await configDump('node1')).pods.some((p) => p.name === 'mesh/starter'));
      // config_dump drops the pod at once; 'pod removed' comes once its capture and listeners are gone.
      await until('the agent to finish removing it', () => world.agentLog('node1').some((l) => l.msg === 'pod removed' && l.pod === 'mesh/starter'), 10_000);
      note(`pod removed: gone from status, netns and agent ${Date.now() - removed} ms after the file was removed`);
      expect(metricSum(await metricsText('node1'), 'ambit_agent_enrolled_pods', {})).toBe(2);
      await until('the sk_lookup link to be detached', () => !links().some((l) => l.type === 'netns' && l.netns_ino === starterNetnsIno), 10_000);
      await until('the agent to close its listeners in the pod', () => inHeld('ss', ['-Hltn']).trim() === '', 10_000);
      expect(agentHoldsNetns()).toBe(false);
      fs.closeSync(heldFds.splice(heldFds.indexOf(held), 1)[0]);
    });

    it('an agent killed with -9 fails closed while down, is restarted, re-adopts its pinned capture, resyncs its pods and captures again', async () => {
      const before = world.node('node1')!.agent!;
      const oldPid = before.pid!;
      const node1Cgroup = world.node('node1')!.cgroupPath;
      const netnsIno = (pod: string): number => fs.statSync(`/run/netns/${world.pod(pod)!.netns!}`).ino;
      const clientIno = netnsIno('client');
      const cgroupLinks = () => links().filter((l) => l.type === 'cgroup' && BigInt(l.cgroup_id ?? -1) === cgroupId(node1Cgroup));
      const skLookupLinks = (ino: number) => links().filter((l) => l.type === 'netns' && l.netns_ino === ino);
      const cgroupLinkIds = cgroupLinks().map((l) => l.id).sort();
      const clientLinkIds = skLookupLinks(clientIno).map((l) => l.id);
      expect(cgroupLinkIds).toHaveLength(11);
      expect(clientLinkIds).toHaveLength(1);

      // A new connection from the mesh client every 20 ms, through the kill and the restart.
      const probe = new LineProcess(
        spawnIn(world.placement('client'), cleanup, process.execPath, ['-e', CONNECT_PROBE_JS, serverVip, String(SERVER_HTTP_PORT), '20'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      const diagnose = (): void => {
        note(`probe lines (last 5): ${JSON.stringify(probe.lines.slice(-5))}`);
        const errs = world.accessLog('node1').filter((l) => l.direction === 'outbound' && l['src.workload'] === 'client' && l.response_flags !== '-');
        note(`node1 outbound failures from client: ${errs.length}; last: ${JSON.stringify(errs.slice(-2))}`);
      };
      await until('the probe to get through the mesh', () => probe.lines.some((l) => l.ok === true), 20_000).catch((err: unknown) => {
        diagnose();
        throw err;
      });
      const killed = Date.now();
      process.kill(oldPid, 'SIGKILL'); // the node1 agent this runtime started
      const after = await until('the agent to be running again', () => {
        const a = world.node('node1')?.agent;
        return a?.running && a.pid !== oldPid && a.restarts >= before.restarts + 1 ? a : undefined;
      }, 45_000);
      await until('its readiness to be 200', async () => (await httpGet(`http://${world.agentHost('node1')}:15021/healthz/ready`).catch(() => ({ status: 0 }))).status === 200, 45_000);
      const readyAt = Date.now();
      const podsAtReady = (await configDump('node1')).pods.length;
      const podNames = async (): Promise<string[]> => (await configDump('node1')).pods.map((p) => p.name).sort();
      const onNode1 = world.status()!.pods.filter((p) => p.node === 'node1').map((p) => `${p.namespace}/${p.name}`).sort();
      await until('the pods to be resynced from the snapshot', async () => (await podNames()).join() === onNode1.join(), 15_000);
      expect(onNode1).toEqual(['mesh/client', 'other/other-client']);
      const fromNew = world.agentLog('node1').filter((l) => l.pid === after.pid);
      const reEnrolled = fromNew.filter((l) => l.msg === 'pod enrolled' && l.component === undefined).map((l) => l.pod);
      expect(reEnrolled.sort()).toEqual(['mesh/client', 'other/other-client']);
      const snapshot = await until('the snapshot to be done', () => world.agentLog('node1').find((l) => l.pid === after.pid && l.msg === 'enrollment snapshot done'), 10_000);
      expect(snapshot).toMatchObject({ kept: 2, removed: 0 });
      expect(fromNew.find((l) => l.msg === 'config applied')).toMatchObject({ source: 'cache' });
      // The new agent re-adopted the pinned capture: every link updated in place, none replaced.
      const resumed = fromNew.find((l) => l.msg === 're-adopted the capture a previous agent left pinned');
      expect(resumed).toMatchObject({ replaced: [] });
      expect((resumed!.adopted as string[]).length).toBe(12);

      // While no agent ran, every attempt failed: capture stayed and nothing listened.
      const newAgentFrom = Date.parse(String(fromNew[0].time));
      const clientBack = Date.parse(String(fromNew.find((l) => l.msg === 'pod enrolled' && l.pod === 'mesh/client')!.time));
      // Generous: on a loaded CI machine the first tunnels after a restart wait for new certificates.
      await until('the probe to get through again', () => probe.lines.some((l) => Number(l.t) > clientBack && l.ok === true), 40_000).catch((err: unknown) => {
        diagnose();
        throw err;
      });
      probe.child.kill('SIGTERM');
      await until('the probe to stop', () => probe.child.exitCode !== null || probe.child.signalCode !== null, 5_000);
      const down = probe.lines.filter((l) => Number(l.t) >= killed && Number(l.t) < newAgentFrom);
      const firstOk = probe.lines.find((l) => Number(l.t) >= killed && l.ok === true)!;
      const codes = [...new Set(down.map((l) => String(l.code)))].sort();
      note(
        `agent restart: ${down.length} connections tried in the ${newAgentFrom - killed} ms without an agent, all failed (${codes.join(', ')}); ` +
          `first success ${Number(firstOk.t) - killed} ms after kill -9, the client re-enrolled at +${clientBack - killed} ms; ` +
          `ready ${readyAt - killed} ms after the kill (restarts ${after.restarts}); pods in config_dump when /healthz/ready first said 200: ${podsAtReady}`,
      );
      expect(down.length).toBeGreaterThanOrEqual(10);
      expect(down.filter((l) => l.ok === true || Number(l.status) > 0)).toEqual([]);
      expect(codes.every((c) => c === 'ECONNREFUSED' || c === 'ECONNRESET')).toBe(true);
      // Nothing the client sent since the kill reached node2 in plaintext: every inbound connection
      // from it carries its identity, and every probe that got through went through the new agent.
      await sleep(500); // access-log lines are written when a connection closes
      const inbound = world.accessLog('node2').filter((l) => l.direction === 'inbound' && l['src.workload'] === 'client' && Date.parse(String(l.start_time)) >= killed);
      expect(inbound.length).toBeGreaterThan(0);
      expect(inbound.filter((l) => l['src.identity'] !== id('mesh', 'client'))).toEqual([]);
      const outboundNew = world.accessLog('node1').filter((l) => l.pid === after.pid && l.direction === 'outbound' && l['src.workload'] === 'client');
      expect(outboundNew.length).toBeGreaterThanOrEqual(probe.lines.filter((l) => Number(l.t) >= killed && l.ok === true).length);

      // No gap and no duplicate: the same links, exactly one per program and per pod netns.
      expect(cgroupLinks().map((l) => l.id).sort()).toEqual(cgroupLinkIds);
      expect(new Set(cgroupLinks().map((l) => l.attach_type)).size).toBe(11);
      expect(skLookupLinks(clientIno).map((l) => l.id)).toEqual(clientLinkIds);
      expect(skLookupLinks(netnsIno('other-client'))).toHaveLength(1);
      expect(world.status()!.pods.filter((p) => p.node === 'node1').every((p) => p.enrolled === 'enrolled')).toBe(true);

      const failedAfterEnrol = outboundNew.filter((l) => l.response_flags !== '-');
      if (failedAfterEnrol.length > 0) {
        note(`outbound failures from the new agent: ${failedAfterEnrol.length}, first ${JSON.stringify(failedAfterEnrol[0])}`);
      }
      const asked = Date.now();
      const a = await request('client', `http://${serverVip}:${SERVER_HTTP_PORT}/after-restart`);
      expect(a).toMatchObject({ status: 200 });
      // This request's own connection: the probe's earlier ones may predate the new certificates.
      const line = await until('the new agent process to log the connection', () =>
        world.accessLog('node1').find(
          (l) => l.pid === after.pid && l.direction === 'outbound' && l['src.workload'] === 'client' && Date.parse(String(l.start_time)) >= asked - 5,
        ),
      );
      expect(line).toMatchObject({ 'src.identity': id('mesh', 'client'), 'dst.identity': id('mesh', 'server'), response_flags: '-' });
    }, 120_000);
  });

  it('`down` removes the pinned capture with the cluster: no pin, no link, no program of the runtime is left', async () => {
    const rec = readRuntimeRecord(paths)!;
    expect(rec.pinDir).toBeDefined();
    expect(fs.readdirSync(rec.pinDir!).sort()).toEqual(['node1', 'node2']);
    const nodeCgroups = new Set(world.status()!.nodes.map((n) => cgroupId(n.cgroupPath)));
    const podInos = new Set(world.status()!.pods.map((p) => fs.statSync(`/run/netns/${p.netns!}`).ino));
    const ours = links().filter(
      (l) => (l.type === 'cgroup' && nodeCgroups.has(BigInt(l.cgroup_id ?? -1))) || (l.type === 'netns' && podInos.has(l.netns_ino ?? -1)),
    );
    expect(ours).toHaveLength(2 * 11 + 3); // capture on both nodes, sk_lookup in each pod
    const linkIds = new Set(ours.map((l) => l.id));
    const progIds = new Set(ours.map((l) => l.prog_id));

    await teardownRuntime(paths, { print: () => {} });
    expect(fs.existsSync(rec.pinDir!)).toBe(false);
    expect(listLeftovers(rec.prefix)).toEqual({ netns: [], cgroups: [], pins: [] });
    // Links and programs are freed after an RCU grace period: wait (bounded) for the kernel.
    await until('the kernel to free the links and programs', () =>
      links().every((l) => !linkIds.has(l.id)) && programs().every((p) => !progIds.has(p.id)) ? true : undefined,
    10_000);
  });
});
