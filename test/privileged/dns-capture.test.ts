/**
 * DNS capture end to end on the real kernel: pod A is enrolled with the real
 * datapath, the agent's DNS proxy serves 15053 inside A, and a resolver run
 * by the test on loopback of the agent's (this process's) namespace is the
 * upstream. A's resolv.conf names 198.19.0.10, which exists nowhere: every
 * answer A gets came through cgroup/connect4|6, sendmsg4|6 and the proxy, and
 * recvmsg4|6 / getpeername4|6 show it as coming from 198.19.0.10:53.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CaptureDatapath } from '../../agent/capture/capture-programs';
import { openInPodListeners } from '../../agent/capture/in-pod-listeners';
import { PodEnrollments } from '../../agent/capture/pod-enrollment';
import { DnsProxy } from '../../agent/dns/dns-proxy';
import type { DnsQueryEvent } from '../../agent/dns/dns-handler';
import { ServiceDnsTable } from '../../agent/dns/service-dns-table';
import { AGENT_SOCKET_MARK } from '../../common/ports';
import { createMesh, defer, requirePrivileged, type CleanupHandle, type Mesh, type Pod } from '../harness';
import { TestResolver } from '../support/dns-test-resolver';
import { CaptureEnv } from './capture-env';
import { dnsQueryFrom, PodResolvConf, startAppDnsServer } from './dns-env';
import { connectFrom, ruleLines } from './net-probes';

jest.setTimeout(90_000);

const NAMESERVER4 = '198.19.0.10';
const NAMESERVER6 = 'fd00:a3b1:53::10';

describe('DNS capture (connect/sendmsg/recvmsg/getpeername) and the agent DNS proxy', () => {
  let mesh: Mesh;
  let env: CaptureEnv;
  let upstream: TestResolver;
  let proxy: DnsProxy;
  let resolv: PodResolvConf;
  let a: Pod;
  let b: Pod;
  let c: Pod;
  const events: DnsQueryEvent[] = [];
  // Under jest afterAll is the cleanup path (process exit hooks never fire): it runs these.
  const cleanups: CleanupHandle[] = [];
  let hostRulesBefore: string[];

  beforeAll(async () => {
    requirePrivileged();
    hostRulesBefore = ruleLines();
    mesh = await createMesh({ nodes: 1 });
    const node = mesh.nodes[0];
    a = await node.addPod('a');
    b = await node.addPod('b');
    c = await node.addPod('c');
    upstream = await TestResolver.start({ 'example.test': ['192.0.2.80'], 'v6.example.test': ['2001:db8::80'] });
    cleanups.push(defer('test upstream resolver', () => upstream.close()));
    env = await CaptureEnv.create(mesh, node);

    const table = new ServiceDnsTable([
      { hostname: 'reviews.demo.svc.cluster.local', vips: ['10.96.0.10'] },
      { hostname: 'ratings.demo.svc.cluster.local', vips: ['10.96.0.11', 'fd00:96::11'] },
    ]);
    proxy = new DnsProxy({
      lookup: table,
      upstream: { address: upstream.address, port: upstream.port },
      upstreamOptions: { mark: AGENT_SOCKET_MARK, attemptTimeoutMs: 300, attempts: 2, tcpTimeoutMs: 1000 },
      hooks: { onQuery: (e) => events.push(e) },
    });
    cleanups.push(defer('dns proxy', () => proxy.close()));
    // The agent's order: the pod's DNS proxy first, then enrollment (from which port 53 is captured).
    const fd = fs.openSync(a.netnsPath, 'r');
    cleanups.push(defer('netns fd of a', () => fs.closeSync(fd), { sync: () => fs.closeSync(fd) }));
    await proxy.addPod('a', { netnsFd: fd, pod: { namespace: 'demo', name: 'a' } });
    await env.enroll(a);
    // B is enrolled but bypasses port 53; C is not enrolled. Both run their own DNS server.
    await env.enroll(b, { outboundPorts: [53] });
    await startAppDnsServer(b, b.ipv4);
    await startAppDnsServer(c, c.ipv4);
    await startAppDnsServer(a, '127.0.0.1');

    resolv = PodResolvConf.create(
      `nameserver ${NAMESERVER4}\nsearch demo.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`,
    );
  });

  afterAll(async () => {
    try {
      // Newest first: the proxy and its netns fd before the upstream.
      for (const c of cleanups.reverse()) await c.run().catch(() => {});
      await resolv?.remove();
      await env?.close();
    } finally {
      await mesh?.destroy();
    }
  });

  it('serves 15053 over UDP and TCP on 127.0.0.1 and [::1] inside the pod', () => {
    expect(proxy.listening('a')).toEqual(['udp 127.0.0.1:15053', 'tcp 127.0.0.1:15053', 'udp [::1]:15053', 'tcp [::1]:15053']);
  });

  it('getent hosts <svc>.<ns>.svc.cluster.local prints the Service VIP, answered by the proxy', async () => {
    const r = await resolv.getent(a, 'reviews.demo.svc.cluster.local');
    expect(r.code).toBe(0);
    // ndots:5 makes glibc try the name + the first search domain first; the proxy answers that
    // at once with a CNAME to the Service (ztunnel does the same), which getent lists as an alias.
    expect(r.lines).toEqual(['10.96.0.10 reviews.demo.svc.cluster.local reviews.demo.svc.cluster.local.demo.svc.cluster.local']);
    expect(upstream.seen.filter((s) => s.name === 'reviews.demo.svc.cluster.local')).toEqual([]);
  });

  it('getent hosts <svc> (short name through the search path) prints the Service VIP', async () => {
    const r = await resolv.getent(a, 'reviews');
    expect(r).toMatchObject({ code: 0, lines: ['10.96.0.10 reviews.demo.svc.cluster.local'] });
  });

  it('getent hosts <svc>.<ns> is answered on the first search domain with a CNAME to the Service', async () => {
    const before = upstream.seen.length;
    const r = await resolv.getent(a, 'reviews.demo');
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(['10.96.0.10 reviews.demo.svc.cluster.local reviews.demo.demo.svc.cluster.local']);
    // AAAA first (getent hosts asks for IPv6 first): known name, no v6 VIP -> NODATA locally.
    expect(upstream.seen.slice(before).filter((s) => s.name.startsWith('reviews.demo.demo'))).toEqual([]);
  });

  it('answers AAAA from the IPv6 VIP (getent hosts prefers it)', async () => {
    const r = await resolv.getent(a, 'ratings');
    expect(r).toMatchObject({ code: 0, lines: ['fd00:96::11 ratings.demo.svc.cluster.local'] });
  });

  it('getent hosts example.test is answered through the upstream resolver', async () => {
    const r = await resolv.getent(a, 'example.test');
    expect(r).toMatchObject({ code: 0, lines: ['192.0.2.80 example.test'] });
    expect(upstream.names('udp')).toContain('example.test');
    expect(events.some((e) => e.name === 'example.test' && e.outcome === 'forwarded' && e.pod === 'a')).toBe(true);
  });

  it('shows replies to an unconnected socket as coming from the nameserver it asked (recvmsg4)', async () => {
    const r = await dnsQueryFrom(a, { server: NAMESERVER4, name: 'reviews.demo.svc.cluster.local' });
    expect(r).toMatchObject({ id: 4242, rcode: 'NOERROR', aa: true, from: { address: NAMESERVER4, port: 53 } });
    expect(r.answers).toEqual([{ type: 'A', name: 'reviews.demo.svc.cluster.local', data: '10.96.0.10' }]);
  });

  it('captures a connected UDP socket (glibc style) and reports the nameserver as its peer (getpeername4)', async () => {
    const r = await dnsQueryFrom(a, { mode: 'udp-connected', server: NAMESERVER4, name: 'example.test' });
    expect(r).toMatchObject({ rcode: 'NOERROR', from: { address: NAMESERVER4, port: 53 }, remote: { address: NAMESERVER4, port: 53 } });
    expect(r.answers).toEqual([{ type: 'A', name: 'example.test', data: '192.0.2.80' }]);
  });

  it('captures IPv6 DNS to [::1]:15053 and restores the IPv6 nameserver (sendmsg6/recvmsg6)', async () => {
    const r = await dnsQueryFrom(a, { server: NAMESERVER6, name: 'v6.example.test', type: 'AAAA', socketType: 'udp6' });
    expect(r).toMatchObject({ rcode: 'NOERROR', from: { address: NAMESERVER6, port: 53 } });
    expect(r.answers).toEqual([{ type: 'AAAA', name: 'v6.example.test', data: '2001:db8::80' }]);
    const connected = await dnsQueryFrom(a, { mode: 'udp-connected', server: NAMESERVER6, name: 'ratings.demo.svc.cluster.local', type: 'AAAA', socketType: 'udp6' });
    expect(connected).toMatchObject({ rcode: 'NOERROR', from: { address: NAMESERVER6, port: 53 }, remote: { address: NAMESERVER6, port: 53 } });
  });

  it('restores a v4-mapped nameserver for a dual-stack socket', async () => {
    const r = await dnsQueryFrom(a, { server: `::ffff:${NAMESERVER4}`, name: 'reviews.demo.svc.cluster.local', socketType: 'udp6' });
    expect(r).toMatchObject({ rcode: 'NOERROR', from: { address: `::ffff:${NAMESERVER4}`, port: 53 } });
  });

  it('serves DNS over TCP: TCP port 53 goes to 15053, not the 15001 outbound listener', async () => {
    const accepted = env.accepted.length;
    const local = await dnsQueryFrom(a, { mode: 'tcp', server: NAMESERVER4, name: 'reviews.demo.svc.cluster.local' });
    expect(local).toMatchObject({ rcode: 'NOERROR', aa: true, answers: [{ type: 'A', data: '10.96.0.10' }] });
    const forwarded = await dnsQueryFrom(a, { mode: 'tcp', server: NAMESERVER4, name: 'example.test' });
    expect(forwarded).toMatchObject({ rcode: 'NOERROR', answers: [{ type: 'A', data: '192.0.2.80' }] });
    expect(upstream.names('tcp')).toContain('example.test');
    const v6 = await dnsQueryFrom(a, { mode: 'tcp', server: NAMESERVER6, name: 'example.test' });
    expect(v6).toMatchObject({ rcode: 'NOERROR', answers: [{ type: 'A', data: '192.0.2.80' }] });
    expect(env.accepted.length).toBe(accepted);
  });

  it("leaves loopback DNS inside the pod alone (an app's own resolver on 127.0.0.1:53)", async () => {
    const r = await dnsQueryFrom(a, { server: '127.0.0.1', name: 'reviews.demo.svc.cluster.local' });
    expect(r).toMatchObject({ answers: [{ type: 'A', data: '192.0.2.253' }], from: { address: '127.0.0.1', port: 53 } });
  });

  it('leaves a pod that bypasses port 53, and an unenrolled pod, alone', async () => {
    for (const pod of [b, c]) {
      const r = await dnsQueryFrom(pod, { server: pod.ipv4, name: 'reviews.demo.svc.cluster.local' });
      expect(r).toMatchObject({ answers: [{ type: 'A', data: '192.0.2.253' }], from: { address: pod.ipv4, port: 53 } });
    }
  });

  it('counts captured UDP and TCP DNS and rewritten replies', () => {
    const n = env.dp.counters();
    expect(n.dns_udp_captured).toBeGreaterThanOrEqual(8n);
    expect(n.dns_tcp_captured).toBeGreaterThanOrEqual(3n);
    expect(n.dns_reply_rewritten).toBeGreaterThanOrEqual(8n);
  });

  it('writes no iptables or nftables rule', () => {
    expect(ruleLines()).toEqual(hostRulesBefore);
    for (const pod of [a, b, c]) expect(ruleLines(pod.netnsName)).toEqual([]);
  });

  it('answers SERVFAIL within the upstream deadline when the upstream is silent', async () => {
    upstream.behaviour.silent = true;
    try {
      const r = await dnsQueryFrom(a, { server: NAMESERVER4, name: 'silent.example.test' });
      expect(r).toMatchObject({ rcode: 'SERVFAIL', from: { address: NAMESERVER4, port: 53 } });
      expect(r.tookMs).toBeGreaterThanOrEqual(500); // 2 attempts x 300 ms
      expect(r.tookMs).toBeLessThan(2500);
      const tcp = await dnsQueryFrom(a, { mode: 'tcp', server: NAMESERVER4, name: 'silent.example.test' });
      expect(tcp).toMatchObject({ rcode: 'SERVFAIL' });
    } finally {
      upstream.behaviour.silent = false;
    }
  });

  it('fails fast with the upstream down: getent gives up at once, local names still resolve', async () => {
    await upstream.close();
    const r = await resolv.getent(a, 'nothere.example.test');
    expect(r.code).toBe(2); // "key not found"
    expect(r.tookMs).toBeLessThan(3000);
    const q = await dnsQueryFrom(a, { server: NAMESERVER4, name: 'nothere.example.test' });
    expect(q).toMatchObject({ rcode: 'SERVFAIL' });
    expect(q.tookMs).toBeLessThan(1000);
    expect(await resolv.getent(a, 'reviews')).toMatchObject({ code: 0, lines: ['10.96.0.10 reviews.demo.svc.cluster.local'] });
  });

  it('stops capturing DNS when the pod is unenrolled and its proxy removed', async () => {
    await env.unenroll(a);
    expect(await proxy.removePod('a')).toBe(true);
    const r = await dnsQueryFrom(a, { server: '127.0.0.1', name: 'reviews' });
    expect(r.answers).toEqual([{ type: 'A', name: 'reviews', data: '192.0.2.253' }]);
    // Nothing listens on 15053 any more, and nothing sends 198.19.0.10:53 there.
    const gone = await dnsQueryFrom(a, { server: '127.0.0.1', port: 15053, name: 'reviews', timeoutMs: 1000 });
    expect(gone.error).toBeDefined();
  });
});

describe('DNS capture knob', () => {
  let mesh: Mesh;
  let dp: CaptureDatapath;
  let enrollments: PodEnrollments;
  let teardown: CleanupHandle | undefined;
  const servers: net.Server[] = [];

  beforeAll(async () => {
    requirePrivileged();
    mesh = await createMesh({ nodes: 1 });
    const node = mesh.nodes[0];
    const k = await node.addPod('k');
    dp = await CaptureDatapath.load({ cgroupRoot: node.cgroupPath, pinDir: path.join(mesh.pinDir, node.name), knobs: { dnsCapture: false } });
    enrollments = new PodEnrollments(dp);
    teardown = defer('knob datapath', () => {
      enrollments.unenrollAll();
      for (const s of servers) s.close();
      dp.close();
    });
    const fd = fs.openSync(k.netnsPath, 'r');
    let fds;
    try {
      fds = await openInPodListeners(fd, { ipv6: true });
    } finally {
      fs.closeSync(fd);
    }
    for (const [name, lfd] of Object.entries(fds)) {
      const s = net.createServer((sock) => {
        sock.on('error', () => sock.destroy());
        sock.resume();
        sock.end(`${name}\n`);
      });
      await new Promise<void>((resolve) => s.listen({ fd: lfd }, resolve));
      servers.push(s);
    }
    await enrollments.enroll({ name: 'k', cgroupPath: k.cgroupPath, netnsPath: k.netnsPath, ips: [k.ipv4, k.ipv6] }, fds);
    await startAppDnsServer(k, k.ipv4);
  });

  afterAll(async () => {
    try {
      await teardown?.run();
    } finally {
      await mesh?.destroy();
    }
  });

  it('dnsCapture: false leaves UDP DNS alone and sends TCP port 53 to 15001 like any other port', async () => {
    const k = mesh.pod('k');
    const udp = await dnsQueryFrom(k, { server: k.ipv4, name: 'reviews' });
    expect(udp).toMatchObject({ answers: [{ type: 'A', data: '192.0.2.253' }], from: { address: k.ipv4, port: 53 } });
    expect(await connectFrom(k, NAMESERVER4, 53)).toMatchObject({ ok: true, reply: 'outbound4' });
    const n = dp.counters();
    expect([n.dns_udp_captured, n.dns_tcp_captured, n.dns_reply_rewritten]).toEqual([0n, 0n, 0n]);
    expect(n.outbound_captured).toBeGreaterThanOrEqual(1n);
  });
});
