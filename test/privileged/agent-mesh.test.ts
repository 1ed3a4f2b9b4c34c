/**
 * The node agent end to end (issue 4), as a user runs it: `ambit local up` from the TypeScript
 * sources with two simulated nodes, one agent process per node, real eBPF capture, and unmodified
 * apps (a Node HTTP + TCP echo server, a client that only sleeps, `curl`, `getent`). Every command
 * an app would run is started inside its pod's netns AND cgroup, so its traffic is captured.
 *
 *   node1: client (mesh, sa client)  server-b (mesh, sa server, app=echo)  outsider (plain, not ambient)
 *   node2: server-a (mesh, sa server, app=echo)
 *   Service mesh/echo: 80 -> 8080 (HTTP), 9000 -> 9000 (TCP echo)
 *
 * One runtime for the whole file; tests run in order and build on each other (server-b is killed
 * in the load-balancing test and stays down). afterAll tears it down through the same code
 * `ambit local down` uses, also when a test failed half-way. Traffic only goes to addresses inside
 * namespaces this runtime created, and to the agents' loopback admin ports.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RuntimeRecord, StatusDoc } from '../../cli/local/runtime-record';
import { readJson, statePaths } from '../../cli/local/state-dir';
import { teardownRuntime } from '../../cli/local/teardown';
import { createKeyAndCsr } from '../../common/identity/csr';
import { spiffeId } from '../../common/identity/spiffe';
import { toPem, x509 } from '../../common/identity/x509';
import { CleanupStack, cgroupProcs, execIn, listLeftovers } from '../../common/sandbox';
import { signLeaf } from '../../control-plane/ca/leaf';
import { loadRoot } from '../../control-plane/ca/root';
import { rootFiles } from '../../control-plane/ca/root-store';
import { ambit, ANY_PORTS, requirePrivileged } from '../harness';
import {
  accessLines,
  execResolving,
  httpFromPod,
  httpText,
  machineNameservers,
  metricSum,
  nodeScriptInPod,
  parseMetrics,
  peerAuthenticationYaml,
  placementOf,
  readLog,
  readPcap,
  sleep,
  startTcpdump,
  tcpExchangeFromPod,
  until,
  writeMeshConfig,
  type LogLine,
  type PodView,
} from './mesh-env';

jest.setTimeout(120_000);

const CLIENT_ID = 'spiffe://cluster.local/ns/mesh/sa/client';
const SERVER_ID = 'spiffe://cluster.local/ns/mesh/sa/server';


/** Bad and odd HBONE clients, run from a process that is not captured (the outsider pod). */
const BAD_HBONE_CLIENTS = `
const net = require('net'), tls = require('tls'), http2 = require('http2'), fs = require('fs');
const [host, podIP, certFile, keyFile, caFile] = process.argv.slice(1);
const PORT = 15008;
const started = Date.now();
const elapsed = () => Date.now() - started;

// Raw bytes on a TCP connection: what comes back, and how it ends.
function raw(bytes) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect(PORT, host);
    let reply = Buffer.alloc(0);
    let error;
    s.setTimeout(8000, () => { error = 'timeout'; s.destroy(); });
    s.on('connect', () => s.write(bytes));
    s.on('data', (d) => (reply = Buffer.concat([reply, d])));
    s.on('error', (e) => (error = error || e.code || e.message));
    s.on('close', () => resolve({ closed: true, error, replyHead: reply.subarray(0, 16).toString('hex'), replyText: reply.toString('latin1').slice(0, 64), ms: Date.now() - t0 }));
  });
}

// One HTTP/2 request over TLS; tlsOpts decide which certificate (if any) the client presents.
function h2(tlsOpts, headers, payload) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const out = { ms: 0 };
    let done = false;
    const finish = () => { if (done) return; done = true; out.ms = Date.now() - t0; try { session.destroy(); } catch {} resolve(out); };
    const session = http2.connect('https://' + host + ':' + PORT, { ...tlsOpts, minVersion: 'TLSv1.3' });
    session.on('error', (e) => { out.sessionError = e.code || e.message; finish(); });
    session.on('close', () => finish());
    setTimeout(() => { out.timeout = true; finish(); }, 8000);
    let req;
    try { req = session.request(headers, { endStream: false }); } catch (e) { out.requestError = e.code || e.message; return finish(); }
    req.on('response', (h) => {
      out.status = h[':status'];
      out.reason = h['ambit-error'];
      if (out.status !== 200 || payload === undefined) { req.close(); return finish(); }
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (d) => { body += d; if (body.includes('\\r\\n\\r\\n')) { out.body = body.slice(0, 200); req.close(); finish(); } });
      req.write(payload);
    });
    req.on('error', (e) => { out.streamError = e.code || e.message; finish(); });
    req.on('close', () => { out.rstCode = req.rstCode; setTimeout(finish, 50); });
  });
}

(async () => {
  const r = {};
  r.garbage = await raw(Buffer.from('\\x00\\xffnot tls at all, just bytes\\x16\\x03\\x01\\x00\\x05abc\\r\\n\\r\\n', 'latin1'));
  r.http1 = await raw(Buffer.from('GET / HTTP/1.1\\r\\nHost: ' + podIP + ':8080\\r\\nConnection: close\\r\\n\\r\\n'));
  const noCert = { rejectUnauthorized: false };
  r.tlsNoCert = await h2(noCert, { ':method': 'CONNECT', ':authority': podIP + ':8080' });
  const withCert = { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile), ca: fs.readFileSync(caFile), checkServerIdentity: () => undefined };
  r.get = await h2(withCert, { ':method': 'GET', ':path': '/', ':scheme': 'https', ':authority': podIP + ':8080' });
  r.badAuthority = await h2(withCert, { ':method': 'CONNECT', ':authority': 'echo.mesh.svc.cluster.local:80' });
  r.noPort = await h2(withCert, { ':method': 'CONNECT', ':authority': podIP });
  r.otherPod = await h2(withCert, { ':method': 'CONNECT', ':authority': '198.18.1.250:8080' });
  r.closedPort = await h2(withCert, { ':method': 'CONNECT', ':authority': podIP + ':1' });
  // The agent's own listeners are never a destination (an unbounded self-dial otherwise).
  r.selfCall = await h2(withCert, { ':method': 'CONNECT', ':authority': podIP + ':15006' });
  r.valid = await h2(withCert, { ':method': 'CONNECT', ':authority': podIP + ':8080' }, 'GET /hbone-by-hand HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n');
  r.totalMs = elapsed();
  console.log(JSON.stringify(r));
  process.exit(0); // the per-case timers would keep the process for 8 s more
})();
`;

describe('the node agent end to end: two nodes, real eBPF, unmodified apps (ambit local up)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-agent-mesh-'));
  const config = path.join(tmp, 'config');
  const paths = statePaths(path.join(tmp, 'state'));
  const cleanup = new CleanupStack();
  const timings: string[] = [];
  const status = (): StatusDoc | undefined => readJson<StatusDoc>(paths.status, 1);
  const pod = (name: string): PodView => {
    const p = status()?.pods.find((x) => x.name === name);
    if (!p) throw new Error(`no pod ${name} in status.json`);
    return p;
  };
  const node = (name: string): StatusDoc['nodes'][number] => status()!.nodes.find((n) => n.name === name)!;
  const admin = (nodeName: string, port: number, route: string): string => `http://${node(nodeName).agent!.adminAddress}:${port}${route}`;
  const metrics = async (nodeName: string) => parseMetrics((await httpText(admin(nodeName, 15020, '/metrics'))).body);
  const agentLog = (nodeName: string): string => node(nodeName).agent!.log;
  const configDump = async (nodeName: string): Promise<Record<string, any>> => JSON.parse((await httpText(admin(nodeName, 15000, '/config_dump'))).body);
  let agentPids: Record<string, number> = {};

  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      timings.push(`${what}: ${Date.now() - t0} ms`);
    }
  };

  beforeAll(async () => {
    requirePrivileged();
    writeMeshConfig(config);
    const r = await timed('ambit local up', () => ambit(['local', 'up', '-f', config, '--state-dir', paths.dir, '--wait', '40', ...ANY_PORTS], 180_000));
    if (r.code !== 0) throw new Error(`ambit local up failed (${r.code}):\n${r.stdout}\n${r.stderr}`);

    // Ready means: every pod ready, the ambient ones enrolled, both agents ready, and node1's agent
    // sees both echo endpoints.
    await timed('mesh ready', () =>
      until(
        'pods ready and enrolled, agents ready, echo endpoints known to node1',
        async () => {
          const doc = status();
          if (!doc || doc.pods.length !== 4 || !doc.pods.every((p) => p.ready)) return false;
          for (const p of doc.pods) if (p.enrolled !== (p.namespace === 'mesh' ? 'enrolled' : 'not ambient')) return false;
          for (const n of doc.nodes) if ((await httpText(admin(n.name, 15021, '/healthz/ready'))).status !== 200) return false;
          const dump = await configDump('node1');
          const svc = (dump.config.services as Array<{ name: string; namespace: string; endpoints: unknown[] }>).find((s) => s.name === 'echo' && s.namespace === 'mesh');
          const ready = (dump.config.workloads as Array<{ name: string; ready: boolean }>).filter((w) => w.name.startsWith('server-') && w.ready);
          return svc !== undefined && svc.endpoints.length === 2 && ready.length === 2;
        },
        60_000,
        300,
      ),
    );
    agentPids = Object.fromEntries(status()!.nodes.map((n) => [n.name, n.agent!.pid!]));
  }, 180_000);

  afterAll(async () => {
    let rec: RuntimeRecord | undefined;
    try {
      await cleanup.runAll(); // tcpdump and in-pod commands still running after a failure
    } finally {
      try {
        rec = readJson<RuntimeRecord>(paths.runtime, 1);
      } catch {
        // teardownRuntime reports an unreadable record itself
      }
      await teardownRuntime(paths, { print: () => {} });
      fs.rmSync(tmp, { recursive: true, force: true });
      process.stderr.write(`agent-mesh timings:\n  ${timings.join('\n  ')}\n`);
    }
    if (rec) expect(listLeftovers(rec.prefix)).toEqual({ netns: [], cgroups: [], pins: [] });
  }, 60_000);

  it('runs two nodes with an agent each and enrolls only the ambient pods', () => {
    const doc = status()!;
    expect(doc.nodes.map((n) => [n.name, n.agent?.running])).toEqual([
      ['node1', true],
      ['node2', true],
    ]);
    expect(Object.fromEntries(doc.pods.map((p) => [p.name, [p.node, p.enrolled]]))).toEqual({
      client: ['node1', 'enrolled'],
      'server-b': ['node1', 'enrolled'],
      outsider: ['node1', 'not ambient'],
      'server-a': ['node2', 'enrolled'],
    });
    expect(pod('server-a').podIPs[0]).toMatch(/^198\.18\.2\.\d+$/);
    expect(doc.services.find((s) => s.name === 'echo')!.clusterIP).toMatch(/^198\.19\.\d+\.\d+$/);
  });

  it('carries pod A (node1) -> pod B (node2) TCP and HTTP over HBONE: only TLS to B:15008 on the wire', async () => {
    const client = pod('client');
    const b = pod('server-a');
    const aIP = client.podIPs[0];
    const bIP = b.podIPs[0];
    const marker = `AMBIT-PLAINTEXT-MARKER-${process.pid}-${Date.now()}`;
    const before1 = await metrics('node1');
    const before2 = await metrics('node2');
    const opened = (s: ReturnType<typeof parseMetrics>, reporter: string) =>
      metricSum(s, 'istio_tcp_connections_opened_total', { reporter, source_principal: CLIENT_ID, destination_principal: SERVER_ID });

    // The inter-node link as node1 sees it: its uplink on the fabric bridge (interconnect.ts).
    const pcap = path.join(tmp, 'a-to-b.pcap');
    const capture = await startTcpdump(node('node1').netns, 'uplink0', pcap, cleanup);
    let curl;
    let tcp;
    try {
      curl = await timed('curl A->B', () => execIn(placementOf(client), cleanup, 'curl', ['-sS', '--max-time', '10', `http://${bIP}:8080/${marker}`], { timeoutMs: 15_000 }));
      tcp = await tcpExchangeFromPod(client, bIP, 9000, `${marker}-tcp`, cleanup);
    } finally {
      await sleep(300); // the last FIN/ACKs
      await capture.stop();
    }
    expect(curl.stderr).toBe('');
    expect(curl.code).toBe(0);
    expect(JSON.parse(curl.stdout)).toMatchObject({ pod: 'server-a', node: 'node2', path: `/${marker}` });
    expect(tcp).toEqual({ echoed: `${marker}-tcp` });

    // The capture: every TCP segment between A and B is to or from B:15008, the handshake is TLS,
    // and the marker (in the request line, the echoed body and the TCP exchange) appears nowhere.
    const raw = fs.readFileSync(pcap);
    expect(raw.indexOf(Buffer.from('AMBIT-PLAINTEXT-MARKER'))).toBe(-1);
    const packets = readPcap(pcap);
    const between = packets.filter((p) => p.proto === 6 && [p.src, p.dst].includes(aIP) && [p.src, p.dst].includes(bIP));
    expect(between.length).toBeGreaterThan(10);
    const notHbone = between.filter((p) => !(p.dst === bIP && p.dport === 15008) && !(p.src === bIP && p.sport === 15008));
    expect(notHbone).toEqual([]);
    expect(between.some((p) => p.dst === bIP && (p.flags & 0x12) === 0x02)).toBe(true); // a SYN to B:15008
    const payloads = between.filter((p) => p.payload.length > 0);
    // TLS handshake record (0x16 0x03 0x01|0x03) from A (ClientHello) and from B (ServerHello).
    expect(payloads.some((p) => p.src === aIP && p.payload[0] === 0x16 && p.payload[1] === 0x03)).toBe(true);
    expect(payloads.some((p) => p.src === bIP && p.payload[0] === 0x16 && p.payload[1] === 0x03)).toBe(true);
    // Application data records (0x17 0x03 0x03) carry the rest.
    expect(payloads.some((p) => p.payload[0] === 0x17 && p.payload[1] === 0x03 && p.payload[2] === 0x03)).toBe(true);
    // Nothing else crossed the link in the clear towards B's app ports.
    expect(packets.filter((p) => p.proto === 6 && (p.dport === 8080 || p.dport === 9000 || p.sport === 8080 || p.sport === 9000))).toEqual([]);

    // Metrics: node1's agent reports as the source, node2's as the destination, with both identities.
    await until('both agents to count the two connections', async () => {
      const n1 = opened(await metrics('node1'), 'source') - opened(before1, 'source');
      const n2 = opened(await metrics('node2'), 'destination') - opened(before2, 'destination');
      return n1 >= 2 && n2 >= 2;
    }, 10_000);
    const m1 = await metrics('node1');
    const m2 = await metrics('node2');
    const closedBy = (s: ReturnType<typeof parseMetrics>, reporter: string) =>
      metricSum(s, 'istio_tcp_connections_closed_total', { reporter, source_principal: CLIENT_ID, destination_principal: SERVER_ID, response_flags: '-' });
    expect(closedBy(m1, 'source') - closedBy(before1, 'source')).toBe(2);
    expect(closedBy(m2, 'destination') - closedBy(before2, 'destination')).toBe(2);
    expect(metricSum(m1, 'istio_tcp_sent_bytes_total', { reporter: 'source', source_principal: CLIENT_ID, destination_workload: 'server-a' })).toBeGreaterThan(0);
    expect(
      m1.some((s) => s.name === 'istio_tcp_connections_opened_total' && s.labels.reporter === 'source' && s.labels.destination_workload === 'server-a' && s.labels.source_workload === 'client'),
    ).toBe(true);

    // Access logs: one line per connection on each side, with addresses and identities.
    const line = (file: string, direction: string, port: number): LogLine | undefined =>
      accessLines(file).find((l) => l.direction === direction && l['dst.addr'] === `${bIP}:${port}` && String(l['src.addr']).startsWith(`${aIP}:`));
    for (const port of [8080, 9000]) {
      const out = await until(`node1's access-log line for :${port}`, () => line(agentLog('node1'), 'outbound', port), 10_000);
      const inn = await until(`node2's access-log line for :${port}`, () => line(agentLog('node2'), 'inbound', port), 10_000);
      for (const l of [out, inn]) {
        expect(l).toMatchObject({ 'src.identity': CLIENT_ID, 'dst.identity': SERVER_ID, 'src.workload': 'client', 'dst.workload': 'server-a', response_flags: '-' });
        expect(l.error).toBeUndefined();
        expect(l.bytes_sent).toEqual(expect.any(Number));
        expect(Number(l.bytes_sent) + Number(l.bytes_recv)).toBeGreaterThan(0);
      }
      expect(out['dst.hbone_addr']).toBe(`${bIP}:${port}`);
      expect(inn['dst.hbone_addr']).toBe(`${bIP}:${port}`);
    }
  });

  it('spreads Service VIP connections over ready endpoints on both nodes, and survives losing one', async () => {
    const client = pod('client');
    const vip = status()!.services.find((s) => s.name === 'echo')!.clusterIP;
    const first = await timed('20 GETs to the VIP', () => httpFromPod(client, `http://${vip}/lb`, 20, cleanup));
    expect(first.filter((r) => r.status === 200)).toHaveLength(20);
    const by = (rs: typeof first) => rs.reduce<Record<string, number>>((a, r) => ((a[r.pod ?? r.error ?? '?'] = (a[r.pod ?? r.error ?? '?'] ?? 0) + 1), a), {});
    const counts = by(first);
    expect(Object.keys(counts).sort()).toEqual(['server-a', 'server-b']);
    expect(counts['server-a']).toBeGreaterThanOrEqual(5);
    expect(counts['server-b']).toBeGreaterThanOrEqual(5);
    // Access log of a VIP connection: the Service, the chosen endpoint and the authority sent.
    const viaVip = await until('an access-log line of a VIP connection to server-a', () =>
      accessLines(agentLog('node1')).find((l) => l.direction === 'outbound' && l['dst.service'] === 'echo.mesh.svc.cluster.local' && l['dst.workload'] === 'server-a'), 10_000);
    expect(viaVip).toMatchObject({ 'dst.hbone_addr': `${pod('server-a').podIPs[0]}:8080`, 'dst.identity': SERVER_ID, response_flags: '-' });
    // The TCP port of the same Service too.
    expect(await tcpExchangeFromPod(client, vip, 9000, 'via-vip', cleanup)).toEqual({ echoed: 'via-vip' });

    // Service `failover` selects both replicas, but only server-a listens on its port: every
    // connection the balancer first sends to server-b (local, refused) moves on to server-a.
    const failoverVip = status()!.services.find((s) => s.name === 'failover')!.clusterIP;
    const failover = await httpFromPod(client, `http://${failoverVip}:7070/`, 10, cleanup);
    expect(by(failover)).toEqual({ 'server-a': 10 });

    // Kill server-b's container (restartPolicy Never): a process of this runtime, checked to be in the pod's cgroup.
    const victim = pod('server-b');
    const pid = victim.containers[0].pid!;
    expect(cgroupProcs(victim.cgroupPath!)).toContain(pid);
    process.kill(pid, 'SIGKILL');
    await until('server-b container to exit', () => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z', 5_000, 50);

    // At once, before readiness notices: connect failures move on to the next endpoint.
    const during = await httpFromPod(client, `http://${vip}/during`, 10, cleanup);
    expect(by(during)).toEqual({ 'server-a': 10 });

    // Then server-b leaves the endpoints (status.json and the agent's view), and requests keep working.
    await until('server-b to be not ready and out of the echo endpoints', () => {
      const svc = status()!.services.find((s) => s.name === 'echo')!;
      return !pod('server-b').ready && svc.endpoints.filter((e) => e.ready).map((e) => e.pod).join() === 'server-a';
    }, 30_000);
    await until('node1 agent to drop server-b', async () => {
      const dump = await configDump('node1');
      return (dump.config.workloads as Array<{ name: string; ready: boolean }>).some((w) => w.name === 'server-b' && !w.ready) ||
        !(dump.config.workloads as Array<{ name: string }>).some((w) => w.name === 'server-b');
    }, 30_000);
    const after = await httpFromPod(client, `http://${vip}/after`, 10, cleanup);
    expect(by(after)).toEqual({ 'server-a': 10 });
  });

  it('PeerAuthentication STRICT refuses plaintext from an unenrolled pod; PERMISSIVE allows it; probes stay exempt', async () => {
    const outsider = pod('outsider');
    const b = pod('server-a');
    const bIP = b.podIPs[0];
    const url = `http://${bIP}:8080/plaintext`;
    const paFile = path.join(config, 'peer-authentication.yaml');

    // Default (no policy): PERMISSIVE, plaintext is accepted on 15006 and reaches the app.
    expect(await httpFromPod(outsider, url, 1, cleanup)).toEqual([expect.objectContaining({ status: 200, pod: 'server-a' })]);

    const modeOnNode2 = async (): Promise<string | undefined> => {
      const pas = (await configDump('node2')).config.peerAuthentications as Array<{ name: string; mode: string }>;
      return pas.find((p) => p.name === 'mesh-mtls')?.mode ?? 'none';
    };
    fs.writeFileSync(paFile, peerAuthenticationYaml('STRICT'));
    await timed('STRICT reaches node2', () => until('node2 agent to have the STRICT policy', async () => (await modeOnNode2()) === 'STRICT', 30_000));
    const t0 = Date.now();
    const refused = await httpFromPod(outsider, url, 3, cleanup);
    for (const r of refused) {
      expect(r.status).toBeUndefined();
      expect(r.error).toMatch(/ECONNRESET|socket hang up|EPIPE/);
    }
    const denied = await until('node2 access log to show the refusal', () =>
      accessLines(agentLog('node2')).find(
        (l) => Date.parse(String(l.start_time)) >= t0 - 1000 && l.response_flags !== '-' && l['dst.addr'] === `${bIP}:8080` && String(l['src.addr']).startsWith(`${outsider.podIPs[0]}:`),
      ), 10_000);
    expect(denied).toMatchObject({ response_flags: 'DENY', direction: 'inbound' });
    expect(String(denied.error)).toMatch(/PeerAuthentication is STRICT/);
    // mTLS from the enrolled client still works under STRICT.
    expect(await httpFromPod(pod('client'), `http://${bIP}:8080/strict-mtls`, 1, cleanup)).toEqual([expect.objectContaining({ status: 200, pod: 'server-a' })]);
    // The readiness probes (from node2's bridge address, plaintext) are exempt: server-a stays ready.
    const restarts = b.restarts;
    await sleep(3_000); // three probe periods, failureThreshold 2
    expect(pod('server-a')).toMatchObject({ ready: true, restarts });
    expect(status()!.services.find((s) => s.name === 'echo')!.endpoints.filter((e) => e.ready).map((e) => e.pod)).toEqual(['server-a']);

    fs.writeFileSync(paFile, peerAuthenticationYaml('PERMISSIVE'));
    await until('node2 agent to have the PERMISSIVE policy', async () => (await modeOnNode2()) === 'PERMISSIVE', 30_000);
    expect(await httpFromPod(outsider, url, 2, cleanup)).toEqual([expect.objectContaining({ status: 200 }), expect.objectContaining({ status: 200 })]);

    fs.writeFileSync(paFile, peerAuthenticationYaml('STRICT'));
    await until('STRICT again', async () => (await modeOnNode2()) === 'STRICT', 30_000);
    expect((await httpFromPod(outsider, url, 1, cleanup))[0].status).toBeUndefined();
    fs.rmSync(paFile);
    await until('the policy to be gone from node2', async () => (await modeOnNode2()) === 'none', 30_000);
    expect(await httpFromPod(outsider, url, 1, cleanup)).toEqual([expect.objectContaining({ status: 200 })]);
  });

  it("resolves mesh Service names in an unmodified app through the agent's DNS proxy", async () => {
    const client = pod('client');
    const vip = status()!.services.find((s) => s.name === 'echo')!.clusterIP;
    // The pods share the machine's resolv.conf. Its nameserver is not on loopback here, so the
    // capture is what answers; were it on loopback, execResolving gives the process its own.
    const nameservers = machineNameservers();
    expect(nameservers.length).toBeGreaterThan(0);
    const resolve = (cmd: string, args: string[], timeoutMs?: number) => execResolving(client, cleanup, tmp, cmd, args, timeoutMs);

    const getent = await timed('getent (mesh name)', () => resolve('getent', ['hosts', 'echo.mesh.svc.cluster.local']));
    expect(getent.code).toBe(0);
    expect(getent.stdout.trim().split(/\s+/)).toEqual([vip, 'echo.mesh.svc.cluster.local']);

    const curl = await resolve('curl', ['-sS', '--max-time', '10', 'http://echo.mesh.svc.cluster.local/by-name']);
    expect(curl.stderr).toBe('');
    expect(JSON.parse(curl.stdout)).toMatchObject({ pod: 'server-a', path: '/by-name' });

    // Names outside the mesh: the local runtime's agents have no upstream, so SERVFAIL (getent: 2).
    const outside = await timed('getent (outside name)', () => resolve('getent', ['hosts', 'example.invalid'], 30_000));
    expect(outside.code).toBe(2);
    expect(outside.stdout).toBe('');
  });

  it('survives bad HBONE input on a pod 15008 (garbage, HTTP/1.1, no client cert, bad requests) and keeps serving', async () => {
    const b = pod('server-a');
    const bIP = b.podIPs[0];
    // A client certificate from the mesh CA (its root is in the control plane's state directory).
    const files = rootFiles(paths.controlPlane);
    const root = await loadRoot(fs.readFileSync(files.key, 'utf8'), fs.readFileSync(files.cert, 'utf8'), 'cluster.local', files, new Date());
    const id = spiffeId('cluster.local', 'plain', 'default');
    const { keyPem, csrPem } = await createKeyAndCsr(id);
    const leaf = await signLeaf(root, new x509.Pkcs10CertificateRequest(csrPem).publicKey, id, {
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
    });
    const certDir = fs.mkdtempSync(path.join(tmp, 'client-cert-'));
    const certFile = path.join(certDir, 'cert.pem');
    const keyFile = path.join(certDir, 'key.pem');
    const caFile = path.join(certDir, 'ca.pem');
    fs.writeFileSync(certFile, toPem(leaf));
    fs.writeFileSync(keyFile, keyPem, { mode: 0o600 });
    fs.writeFileSync(caFile, root.certPem);

    const before = (await configDump('node2')).hbone.servers as Array<{ pod: string; connections: number }>;
    const r = await timed('bad HBONE clients', () =>
      nodeScriptInPod<Record<string, any>>(pod('outsider'), BAD_HBONE_CLIENTS, [bIP, bIP, certFile, keyFile, caFile], cleanup, 90_000),
    );
    // Not TLS at all: closed at once, nothing HTTP comes back (at most a TLS alert record, 0x15).
    for (const k of ['garbage', 'http1']) {
      expect(r[k].closed).toBe(true);
      expect(r[k].error).not.toBe('timeout');
      expect(r[k].ms).toBeLessThan(5_000);
      expect(r[k].replyText).not.toMatch(/HTTP\//);
      if (r[k].replyHead !== '') expect(r[k].replyHead).toMatch(/^15030[13]/);
    }
    // TLS without a client certificate: the handshake is refused, no stream is ever answered.
    expect(r.tlsNoCert.status).toBeUndefined();
    expect(r.tlsNoCert.timeout).toBeUndefined();
    expect(JSON.stringify(r.tlsNoCert)).toMatch(/CERTIFICATE_REQUIRED|ECONNRESET|ERR_HTTP2|alert/i);
    // A verified client: GET is 405; bad authorities 400; someone else's address 404; a closed
    // port 503; the agent's own port 403; a proper CONNECT is a working tunnel to the app.
    expect(r.get).toMatchObject({ status: 405 });
    expect(r.badAuthority).toMatchObject({ status: 400, reason: expect.stringMatching(/not a host name/) });
    expect(r.noPort).toMatchObject({ status: 400, reason: expect.stringMatching(/no port/) });
    expect(r.otherPod).toMatchObject({ status: 404 });
    expect(r.closedPort).toMatchObject({ status: 503 });
    expect(r.selfCall).toMatchObject({ status: 403 });
    expect(r.valid.status).toBe(200);
    expect(r.valid.body).toMatch(/^HTTP\/1\.1 200 OK/);

    // The agent did not crash or restart, is ready, and still carries mesh traffic.
    const st = status()!;
    for (const n of st.nodes) {
      expect(n.agent).toMatchObject({ running: true, pid: agentPids[n.name], restarts: 0 });
      expect(fs.existsSync(`/proc/${agentPids[n.name]}`)).toBe(true);
    }
    expect((await httpText(admin('node2', 15021, '/healthz/ready'))).status).toBe(200);
    const after = await httpFromPod(pod('client'), `http://${bIP}:8080/after-bad-input`, 3, cleanup);
    expect(after.map((x) => x.status)).toEqual([200, 200, 200]);
    // Every bad connection is gone from the pod's HBONE server.
    await until('bad connections to be closed', async () => {
      const servers = (await configDump('node2')).hbone.servers as Array<{ pod: string; connections: number }>;
      const mine = servers.find((s) => s.pod.endsWith('server-a'));
      const was = before.find((s) => s.pod.endsWith('server-a'));
      return mine !== undefined && mine.connections <= (was?.connections ?? 0) + 1;
    }, 15_000);
    // No error-level line other than access-log lines in the agent's own log.
    const fatal = readLog(agentLog('node2')).filter((l) => Number(l.level) >= 60 || /uncaught|unhandled/i.test(String(l.msg)));
    expect(fatal).toEqual([]);
  });
});
