/**
 * Inbound capture on the real kernel: sk_lookup on enrolled pod B's netns
 * steers SYNs for B's IPs to the agent's listeners held in the sockmap
 * (15008 -> HBONE, other ports -> 15006) with the original destination as the
 * accepted socket's local address; the agent's own connections to the app
 * (from 127.0.0.6 / ::1) and bypassed ports are not steered. Two nodes, so the
 * client on node 2 crosses the node link.
 */
import { dialInNetns } from '../../common/net/netns-dial';
import { AGENT_SOCKET_MARK, AGENT_SOURCE_IPV4, AGENT_SOURCE_IPV6 } from '../../common/ports';
import { createMesh, requirePrivileged, type Mesh, type Pod } from '../harness';
import { CaptureEnv } from './capture-env';
import { connectFrom, ruleLines, startEchoServer } from './net-probes';

jest.setTimeout(60_000);

/** What the agent will do: connect from inside the pod netns, from the agent source address, to the app. */
async function agentConnect(pod: Pod, family: 4 | 6, host: string, port: number): Promise<string> {
  const sock = await dialInNetns(pod.netnsPath, host, port, { source: family === 4 ? AGENT_SOURCE_IPV4 : AGENT_SOURCE_IPV6, mark: AGENT_SOCKET_MARK, noDelay: true });
  return new Promise((resolve, reject) => {
    let got = '';
    sock.setEncoding('utf8');
    sock.once('error', reject);
    sock.on('data', (d: string) => {
      got += d;
      if (got.includes('\n')) {
        sock.destroy();
        resolve(got.trim());
      }
    });
    sock.write('from-agent\n');
  });
}

describe('inbound capture (sk_lookup on the pod netns)', () => {
  let mesh: Mesh;
  let env: CaptureEnv;
  let b: Pod;
  let c: Pod;
  let remote: Pod;

  beforeAll(async () => {
    requirePrivileged();
    mesh = await createMesh({ nodes: 2 });
    b = await mesh.nodes[0].addPod('b');
    c = await mesh.nodes[0].addPod('c');
    remote = await mesh.nodes[1].addPod('r');
    await startEchoServer(b, 8080);
    await startEchoServer(b, 9090);
    env = await CaptureEnv.create(mesh, mesh.nodes[0]);
    await env.enroll(b, { inboundPorts: [9090] });
  });

  afterAll(async () => {
    await env?.close();
    await mesh?.destroy();
  });

  it('steers a plaintext SYN for B:8080 from an unenrolled pod to B 15006 with local address B:8080', async () => {
    const r = await connectFrom(c, b.ipv4, 8080);
    expect(r).toMatchObject({ ok: true, reply: 'inbound4' });
    const got = env.lastAccepted('b')!;
    expect(got.listener).toBe('inbound4');
    expect(got.local).toEqual({ address: b.ipv4, port: 8080, family: 4 });
    expect(got.remote.address).toBe(c.ipv4);
  });

  it('steers IPv6 SYNs to the IPv6 15006 listener', async () => {
    const r = await connectFrom(c, b.ipv6, 8080, 6);
    expect(r).toMatchObject({ ok: true, reply: 'inbound6' });
    expect(env.lastAccepted('b')!.local).toEqual({ address: b.ipv6, port: 8080, family: 6 });
  });

  it('steers B:15008 to the HBONE listener', async () => {
    const r = await connectFrom(c, b.ipv4, 15008);
    expect(r).toMatchObject({ ok: true, reply: 'hbone4' });
    expect(env.lastAccepted('b')!.local).toEqual({ address: b.ipv4, port: 15008, family: 4 });
    const r6 = await connectFrom(c, b.ipv6, 15008, 6);
    expect(r6).toMatchObject({ ok: true, reply: 'hbone6' });
  });

  it('steers traffic from a pod on another node the same way', async () => {
    const r = await connectFrom(remote, b.ipv4, 8080);
    expect(r).toMatchObject({ ok: true, reply: 'inbound4' });
    expect(env.lastAccepted('b')!.remote.address).toBe(remote.ipv4);
  });

  it('does not steer the agent own connections to the app (source 127.0.0.6 / ::1)', async () => {
    const before = env.accepted.length;
    expect(await agentConnect(b, 4, b.ipv4, 8080)).toBe('from-agent');
    expect(await agentConnect(b, 6, b.ipv6, 8080)).toBe('from-agent');
    expect(env.accepted.length).toBe(before);
  });

  it('leaves an inbound-bypassed port to the app', async () => {
    const r = await connectFrom(c, b.ipv4, 9090);
    expect(r).toMatchObject({ ok: true, reply: 'hello' });
    expect(env.dp.counters().inbound_bypass_port).toBeGreaterThanOrEqual(1n);
  });

  it('writes no iptables or nftables rule in any pod', () => {
    for (const pod of [b, c, remote]) expect(ruleLines(pod.netnsName)).toEqual([]);
  });

  it('stops steering once B is unenrolled: the app answers directly', async () => {
    await env.unenroll(b);
    const r = await connectFrom(c, b.ipv4, 8080);
    expect(r).toMatchObject({ ok: true, reply: 'hello' });
  });
});
