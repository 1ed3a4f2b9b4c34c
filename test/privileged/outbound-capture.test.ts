/**
 * Outbound capture on the real kernel: pod A's connects are rewritten by
 * cgroup/connect4|6 to the agent's in-pod 15001 listener and the original
 * destination is recovered; bypass lists, unenrolled pods and unenrollment
 * leave traffic alone; the bind guard holds; no iptables/nftables rule exists.
 */
import { createMesh, requirePrivileged, type Mesh, type Pod } from '../harness';
import { CaptureEnv } from './capture-env';
import { BIND_PROBE, connectFrom, ruleLines, startEchoServer } from './net-probes';

jest.setTimeout(60_000);

describe('outbound capture (cgroup/connect4, connect6, sockops)', () => {
  let mesh: Mesh;
  let env: CaptureEnv;
  let a: Pod;
  let b: Pod;
  let c: Pod;
  let hostRulesBefore: string[];

  beforeAll(async () => {
    requirePrivileged();
    hostRulesBefore = ruleLines();
    mesh = await createMesh({ nodes: 1 });
    const node = mesh.nodes[0];
    a = await node.addPod('a');
    b = await node.addPod('b');
    c = await node.addPod('c');
    await startEchoServer(b, 8080);
    await startEchoServer(b, 9090);
    await startEchoServer(c, 8080);
    await startEchoServer(a, 7070, '127.0.0.1');
    env = await CaptureEnv.create(mesh, node);
    await env.enroll(a, { outboundPorts: [9090], outboundCidrs: [`${c.ipv4}/32`] });
  });

  afterAll(async () => {
    await env?.close();
    await mesh?.destroy();
  });

  it('lands an enrolled pod IPv4 connect on its 127.0.0.1:15001 listener with the original destination', async () => {
    const r = await connectFrom(a, b.ipv4, 8080);
    expect(r).toMatchObject({ ok: true, reply: 'outbound4' });
    const got = env.lastAccepted('a')!;
    expect(got.listener).toBe('outbound4');
    expect(got.local).toEqual({ address: '127.0.0.1', port: 15001, family: 4 });
    expect(got.origDst).toEqual({ address: b.ipv4, port: 8080, family: 4, podId: env.enrollments.get('a')!.podId });
  });

  it('captures IPv6 connects on [::1]:15001 with the IPv6 original destination', async () => {
    const r = await connectFrom(a, b.ipv6, 8080, 6);
    expect(r).toMatchObject({ ok: true, reply: 'outbound6' });
    const got = env.lastAccepted('a')!;
    expect(got.local).toEqual({ address: '::1', port: 15001, family: 6 });
    expect(got.origDst).toMatchObject({ address: b.ipv6, port: 8080, family: 6 });
  });

  it('sends a dual-stack socket talking to a v4-mapped address to the IPv4 listener', async () => {
    const r = await connectFrom(a, `::ffff:${b.ipv4}`, 8080, 6);
    expect(r).toMatchObject({ ok: true, reply: 'outbound4' });
    expect(env.lastAccepted('a')!.origDst).toMatchObject({ address: b.ipv4, port: 8080, family: 4 });
  });

  it('keeps every concurrent connection paired with its own original destination', async () => {
    const before = env.accepted.length;
    const results = await Promise.all([
      connectFrom(a, b.ipv4, 8080),
      connectFrom(a, b.ipv4, 8081),
      connectFrom(a, b.ipv6, 8082, 6),
      connectFrom(a, '198.18.1.200', 443),
    ]);
    for (const r of results) expect(r.ok).toBe(true);
    const dests = env.accepted
      .slice(before)
      .map((x) => `${x.origDst?.address}:${x.origDst?.port}`)
      .sort();
    expect(dests).toEqual([`${b.ipv4}:8080`, `${b.ipv4}:8081`, `${b.ipv6}:8082`, '198.18.1.200:443'].sort());
  });

  it('lets a bypassed destination port go straight to B', async () => {
    const before = env.accepted.length;
    const r = await connectFrom(a, b.ipv4, 9090);
    expect(r).toMatchObject({ ok: true, reply: 'hello', remoteAddress: b.ipv4 });
    expect(env.accepted.length).toBe(before);
    expect(env.dp.counters().outbound_bypass_port).toBeGreaterThanOrEqual(1n);
  });

  it('lets a bypassed destination CIDR go straight to its pod', async () => {
    const before = env.accepted.length;
    const r = await connectFrom(a, c.ipv4, 8080);
    expect(r).toMatchObject({ ok: true, reply: 'hello', remoteAddress: c.ipv4 });
    expect(env.accepted.length).toBe(before);
    expect(env.dp.counters().outbound_bypass_cidr).toBeGreaterThanOrEqual(1n);
  });

  it('never captures loopback traffic inside the pod', async () => {
    const r = await connectFrom(a, '127.0.0.1', 7070);
    expect(r).toMatchObject({ ok: true, reply: 'hello' });
  });

  it('never captures an unenrolled pod', async () => {
    const before = env.accepted.length;
    const r = await connectFrom(c, b.ipv4, 8080);
    expect(r).toMatchObject({ ok: true, reply: 'hello', remoteAddress: b.ipv4 });
    expect(env.accepted.length).toBe(before);
  });

  it('refuses binds of the agent ports inside an enrolled pod with EPERM, and only those', async () => {
    const ports = ['15001', '15006', '15008', '15053', 'udp:15053', '8081'];
    const inA = JSON.parse((await a.execNode(BIND_PROBE, ports)).stdout);
    expect(inA).toEqual({
      '15001': 'EPERM',
      '15006': 'EPERM',
      '15008': 'EPERM',
      '15053': 'EPERM',
      'udp:15053': 'EPERM',
      '8081': 'ok',
    });
    const inC = JSON.parse((await c.execNode(BIND_PROBE, ['15053', '15001'])).stdout);
    expect(inC).toEqual({ '15053': 'ok', '15001': 'ok' });
    expect(env.dp.counters().bind_denied).toBeGreaterThanOrEqual(5n);
  });

  it('writes no iptables or nftables rule, on the host or in the pods, while capture is active', () => {
    expect(ruleLines()).toEqual(hostRulesBefore);
    for (const pod of [a, b, c]) expect(ruleLines(pod.netnsName)).toEqual([]);
  });

  it('lets an unenrolled pod connect straight to B, and lifts the bind guard', async () => {
    await env.unenroll(a);
    const before = env.accepted.length;
    const r = await connectFrom(a, b.ipv4, 8080);
    expect(r).toMatchObject({ ok: true, reply: 'hello', remoteAddress: b.ipv4 });
    expect(env.accepted.length).toBe(before);
    const probe = JSON.parse((await a.execNode(BIND_PROBE, ['15053'])).stdout);
    expect(probe).toEqual({ '15053': 'ok' });
  });
});
