/**
 * Capture across an agent restart, on the real kernel: a datapath closed with keepPins leaves its
 * pinned capture in place and it fails closed (a pod's connects and connects to it are refused);
 * a second load on the same pins re-adopts every link in place (same links, new programs, no
 * duplicate attachment), a re-enrolled pod gets its pod id and its sk_lookup link back, a pod
 * enrolled before the snapshot never gets a leftover's id, and reconcile() removes what nobody
 * re-adopted; a pinned link that no longer fits is replaced, not reused. Each env is closed
 * (everything detached, pins removed) in afterAll.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Abi, encodeIpKey, encodeU32, encodeU64 } from '../../common/native/abi';
import { cgroupId } from '../../common/cgroup2';
import { createMesh, requirePrivileged, type Mesh, type Pod } from '../harness';
import { links } from './bpf-inspect';
import { CaptureDatapath } from '../../agent/capture/capture-programs';
import { CaptureEnv } from './capture-env';
import { connectFrom, startEchoServer } from './net-probes';

jest.setTimeout(90_000);

/** Program ids attached directly to the cgroup, by attach type. */
function cgroupAttachments(dir: string): Array<{ id: number; attach_type: string; name: string }> {
  return JSON.parse(execFileSync('bpftool', ['-j', 'cgroup', 'show', dir], { encoding: 'utf8' }).trim() || '[]') as Array<{
    id: number;
    attach_type: string;
    name: string;
  }>;
}

const netnsLinks = (pod: Pod) => links().filter((l) => l.type === 'netns' && l.netns_ino === fs.statSync(pod.netnsPath).ino);

describe('capture across an agent restart (pinned maps and links)', () => {
  let mesh: Mesh;
  let first: CaptureEnv | undefined;
  let second: CaptureEnv | undefined;
  let pinDir = '';
  let a: Pod;
  let b: Pod;
  let c: Pod;
  let d: Pod;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    requirePrivileged();
    mesh = await createMesh({ nodes: 1 });
    const node = mesh.nodes[0];
    [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((n) => node.addPod(n)));
    await startEchoServer(b, 8080);
    await startEchoServer(a, 8080);
    pinDir = path.join(mesh.pinDir, 'restart');
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await mesh?.destroy();
  });

  it('an agent with pins exits: its capture stays and fails closed (refused both ways, the app never reached)', async () => {
    first = await CaptureEnv.create(mesh, mesh.nodes[0], { pinDir });
    expect(first.dp.resumed).toBeUndefined();
    await first.enroll(a, { outboundPorts: [9999] });
    await first.enroll(c);
    ids.a = first.enrollments.get('a')!.podId;
    ids.c = first.enrollments.get('c')!.podId;
    expect(await connectFrom(a, b.ipv4, 8080)).toMatchObject({ ok: true, reply: 'outbound4' });
    expect(await connectFrom(b, a.ipv4, 8080)).toMatchObject({ ok: true, reply: 'inbound4' });

    await first.exitKeepingCapture();
    expect(cgroupAttachments(mesh.nodes[0].cgroupPath)).toHaveLength(11);
    expect(netnsLinks(a)).toHaveLength(1);
    // Outbound: rewritten to a's 127.0.0.1:15001, where nobody listens.
    expect(await connectFrom(a, b.ipv4, 8080)).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
    // Inbound: sk_lookup finds no listener for a and drops the lookup (the kernel then answers
    // the SYN with a reset); the app listening on 8080 is never reached.
    expect(await connectFrom(b, a.ipv4, 8080)).toMatchObject({ ok: false, code: 'ECONNREFUSED', reply: null });
  });

  it('the next load re-adopts every pinned link in place: same links, new programs, no second attachment', async () => {
    const cgroup = mesh.nodes[0].cgroupPath;
    const before = cgroupAttachments(cgroup);
    const linkIdsBefore = links().filter((l) => l.type === 'cgroup' && BigInt(l.cgroup_id ?? -1) === cgroupId(cgroup)).map((l) => l.id);
    second = await CaptureEnv.create(mesh, mesh.nodes[0], { pinDir });
    expect(second.dp.resumed?.replaced).toEqual([]);
    expect(second.dp.resumed?.adopted).toHaveLength(12); // 11 cgroup programs + the sockmap verdict
    const after = cgroupAttachments(cgroup);
    expect(after.map((p) => p.attach_type).sort()).toEqual(before.map((p) => p.attach_type).sort());
    expect(after.map((p) => p.id).filter((id) => before.some((p) => p.id === id))).toEqual([]);
    const linkIdsAfter = links().filter((l) => l.type === 'cgroup' && BigInt(l.cgroup_id ?? -1) === cgroupId(cgroup)).map((l) => l.id);
    expect(linkIdsAfter.sort()).toEqual(linkIdsBefore.sort());
    // The maps were reused: a and c are still enrolled, under ids now reserved.
    expect(second.enrollments.leftoverPodIds).toEqual([ids.a, ids.c].sort((x, y) => x - y));
    expect(await connectFrom(a, b.ipv4, 8080)).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
  });

  it('a pod enrolled before the snapshot never gets a leftover id; a re-enrolled pod gets its id and its link back', async () => {
    const env = second!;
    await env.enroll(d);
    expect([ids.a, ids.c]).not.toContain(env.enrollments.get('d')!.podId);

    const linkBefore = netnsLinks(a);
    await env.enroll(a, { outboundPorts: [7777] });
    expect(env.enrollments.get('a')!.podId).toBe(ids.a);
    const linkAfter = netnsLinks(a);
    expect(linkAfter).toHaveLength(1);
    expect(linkAfter[0].id).toBe(linkBefore[0].id);
    expect(linkAfter[0].prog_id).not.toBe(linkBefore[0].prog_id);
    expect(await connectFrom(a, b.ipv4, 8080)).toMatchObject({ ok: true, reply: 'outbound4' });
    expect(await connectFrom(b, a.ipv4, 8080)).toMatchObject({ ok: true, reply: 'inbound4' });
    // Its old bypass port is gone with the old spec; the new one is in place.
    const { bypassPorts } = env.dp.maps;
    expect(bypassPorts.keys().map((k) => k.readUInt16LE(4)).sort()).toEqual([7777]);
    expect(env.enrollments.leftoverPodIds).toEqual([ids.c]);
  });

  it('reconcile removes what no pod re-adopted: entries, listener slots and the pinned netns link', async () => {
    const env = second!;
    const { maps } = env.dp;
    expect(maps.enrolled.lookup(encodeU64(cgroupId(c.cgroupPath)))).not.toBeNull();
    expect(netnsLinks(c)).toHaveLength(1);
    expect(env.enrollments.reconcile()).toEqual({ pods: 1, links: 1 });
    expect(maps.enrolled.lookup(encodeU64(cgroupId(c.cgroupPath)))).toBeNull();
    expect(maps.podIps.lookup(encodeIpKey(c.ipv4))).toBeNull();
    expect(maps.listeners.lookup(encodeU32(ids.c * Abi.AMBIT_SLOTS_PER_POD))).toBeNull();
    expect(netnsLinks(c)).toHaveLength(0);
    expect(fs.readdirSync(path.join(pinDir, 'netns')).sort()).toEqual(
      env.enrollments.list().map((p) => String(p.netnsCookie)).sort(),
    );
    // c is out of the mesh now: its connects go where they were going.
    expect(await connectFrom(c, b.ipv4, 8080)).toMatchObject({ ok: true });
    expect((await connectFrom(c, b.ipv4, 8080)).reply).not.toBe('outbound4');
    // The pods enrolled now are untouched.
    expect(await connectFrom(a, b.ipv4, 8080)).toMatchObject({ ok: true, reply: 'outbound4' });
    expect(env.enrollments.reconcile()).toEqual({ pods: 0, links: 0 });
  });

  it('close without keepPins detaches everything and removes the pins', async () => {
    await second!.close();
    expect(fs.existsSync(pinDir)).toBe(false);
    expect(cgroupAttachments(mesh.nodes[0].cgroupPath)).toEqual([]);
    expect(netnsLinks(a)).toHaveLength(0);
    expect(await connectFrom(a, b.ipv4, 8080)).toMatchObject({ ok: true });
  });

  it('a pinned link attached elsewhere (the cgroup root changed) is replaced make-before-break, not reused', async () => {
    const dir = path.join(mesh.pinDir, 'moved');
    const node = mesh.nodes[0].cgroupPath;
    const one = await CaptureDatapath.load({ cgroupRoot: node, pinDir: dir });
    one.close({ keepPins: true });
    const two = await CaptureDatapath.load({ cgroupRoot: d.cgroupPath, pinDir: dir });
    try {
      expect(two.resumed?.adopted).toEqual(['ambit_sk_msg']);
      expect(two.resumed?.replaced).toHaveLength(11);
      expect(cgroupAttachments(node)).toEqual([]);
      expect(cgroupAttachments(d.cgroupPath)).toHaveLength(11);
      expect(fs.readdirSync(dir).filter((f) => f.endsWith('_new'))).toEqual([]);
    } finally {
      two.close();
    }
    expect(fs.existsSync(dir)).toBe(false);
    expect(cgroupAttachments(d.cgroupPath)).toEqual([]);
  });
});
