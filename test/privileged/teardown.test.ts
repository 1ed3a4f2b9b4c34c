/**
 * Teardown and rollback: after the capture datapath and the mesh are torn
 * down, the kernel holds no program, map or link of ours and no netns,
 * cgroup or pin remains; a failed enrollment rolls back without disturbing
 * a pod enrolled before it.
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createMesh, listLeftovers, requirePrivileged, runPrefix, type Mesh } from '../harness';
import { encodeU64 } from '../../common/native/abi';
import { ErrorCodes } from '../../common/errors';
import { CaptureEnv } from './capture-env';
import { ambitPrograms, links, maps } from './bpf-inspect';
import { connectFrom, ruleLines, startEchoServer } from './net-probes';

jest.setTimeout(60_000);

describe('teardown', () => {
  let mesh: Mesh | undefined;
  let env: CaptureEnv | undefined;

  beforeAll(() => requirePrivileged());
  afterAll(async () => {
    await env?.close();
    await mesh?.destroy();
  });

  it('rolls back a failed enrollment and keeps the pods enrolled before it', async () => {
    mesh = await createMesh({ nodes: 1 });
    const a = await mesh.nodes[0].addPod('a');
    const b = await mesh.nodes[0].addPod('b');
    await startEchoServer(b, 8080);
    env = await CaptureEnv.create(mesh, mesh.nodes[0]);
    await env.enroll(a);
    const keysBefore = {
      enrolled: env.dp.maps.enrolled.keys().length,
      podIps: env.dp.maps.podIps.keys().length,
      listeners: env.dp.maps.listeners.keys().length,
    };
    const linksBefore = links().length;

    // b's cgroup path is wrong: enrollment must fail after it has written some state, and undo it.
    const bad = env.enrollments.enroll(
      { name: 'b', cgroupPath: `${b.cgroupPath}-missing`, netnsPath: b.netnsPath, ips: [b.ipv4] },
      { outbound4: 0, inbound4: 0, hbone4: 0 },
    );
    await expect(bad).rejects.toMatchObject({ code: ErrorCodes.ENROLL, message: expect.stringContaining('-missing') });
    await expect(
      env.enrollments.enroll({ name: 'b', cgroupPath: b.cgroupPath, netnsPath: '/etc/hostname', ips: [b.ipv4] }, {
        outbound4: 0,
        inbound4: 0,
        hbone4: 0,
      }),
    ).rejects.toMatchObject({ code: 'EINVAL', syscall: 'ioctl' });

    expect(env.dp.maps.enrolled.keys().length).toBe(keysBefore.enrolled);
    expect(env.dp.maps.podIps.keys().length).toBe(keysBefore.podIps);
    expect(env.dp.maps.listeners.keys().length).toBe(keysBefore.listeners);
    expect(links().length).toBe(linksBefore);
    // a is still captured.
    expect(await connectFrom(a, b.ipv4, 8080)).toMatchObject({ ok: true, reply: 'outbound4' });
  });

  it('leaves no program, map, link, netns, cgroup or pin after teardown (checked with bpftool and ip)', async () => {
    expect(mesh && env).toBeTruthy();
    const rulesBefore = ruleLines();
    const progs = ambitPrograms();
    expect(progs.map((p) => p.name).sort()).toEqual(
      [
        'ambit_bind4',
        'ambit_bind6',
        'ambit_connect4',
        'ambit_connect6',
        'ambit_getpeername4',
        'ambit_getpeername6',
        'ambit_recvmsg4',
        'ambit_recvmsg6',
        'ambit_sendmsg4',
        'ambit_sendmsg6',
        'ambit_sk_lookup',
        'ambit_sk_msg',
        'ambit_sockops',
      ].sort(),
    );
    const progIds = new Set(progs.map((p) => p.id));
    const mapIds = new Set(progs.flatMap((p) => p.map_ids ?? []));
    expect(links().filter((l) => progIds.has(l.prog_id)).length).toBeGreaterThanOrEqual(6);
    const { cgroupRoot, pinDir } = mesh!;
    expect(fs.readdirSync(pinDir).length).toBeGreaterThan(0);
    // The capture state is reachable as pinned maps and links while running.
    expect(env!.dp.maps.enrolled.lookup(encodeU64(0n))).toBeNull();

    await env!.close();
    await mesh!.destroy();

    // Program and map memory is released after an RCU grace period: wait (bounded) for the kernel.
    const gone = await until(() => {
      const liveProgs = new Set(ambitPrograms().map((p) => p.id));
      const liveMaps = new Set(maps().map((m) => m.id));
      return (
        [...progIds].every((id) => !liveProgs.has(id)) &&
        links().every((l) => !progIds.has(l.prog_id)) &&
        [...mapIds].every((id) => !liveMaps.has(id))
      );
    }, 10_000);
    expect({ ours: { programs: ambitPrograms().filter((p) => progIds.has(p.id)), maps: maps().filter((m) => mapIds.has(m.id)) } }).toEqual({
      ours: { programs: [], maps: [] },
    });
    expect(gone).toBe(true);
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(netns).not.toContain(runPrefix());
    expect(fs.existsSync(cgroupRoot)).toBe(false);
    expect(fs.existsSync(pinDir)).toBe(false);
    expect(listLeftovers()).toEqual({ netns: [], cgroups: [], pins: [] });
    expect(ruleLines()).toEqual(rulesBefore);
  });
});

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
