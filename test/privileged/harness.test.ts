// The privileged harness itself: real netns, veths, bridges, cgroups and processes.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { cgroupId, findCgroup2Mount, isCgroup2Root } from '../../common/cgroup2';
import {
  cgroupOfPid,
  cgroupProcs,
  createMesh,
  killChild,
  listLeftovers,
  Mesh,
  netnsIdentity,
  Pod,
  requirePrivileged,
  run,
  runPrefix,
  sweepLeftovers,
  waitForLine,
} from '../harness';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const ECHO_SERVER = path.join(FIXTURES, 'tcp-echo-server.js');
const TCP_CLIENT = path.join(FIXTURES, 'tcp-client.js');
const LIFECYCLE = path.join(FIXTURES, 'harness-lifecycle.js');

const NOTHING = { netns: [], cgroups: [], pins: [] };

const lastJsonLine = (out: string): Record<string, unknown> => JSON.parse(out.trim().split('\n').pop() as string);

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Running (a zombie waiting for a reaper that is not us counts as dead). */
const alive = (pid: number): boolean => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

/** Resolves once `pid` runs `comm` (the spawn wrapper has exec'd it). */
async function execed(pid: number, comm: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`pid ${pid} never became ${comm}`);
}

/** Starts the echo server in `server`, then runs the client in `client` against it. */
async function tcpRoundTrip(client: Pod, server: Pod, host: string) {
  const srv = server.spawnNode(ECHO_SERVER, ['--host', host, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const { port } = JSON.parse(await waitForLine(srv, '"listening"')) as { port: number };
    const res = await client.execNode(TCP_CLIENT, ['--host', host, '--port', String(port), '--message', 'ping'], {
      timeoutMs: 10_000,
    });
    const accepted = JSON.parse(await waitForLine(srv, '"connection"')) as Record<string, unknown>;
    return { res, reply: lastJsonLine(res.stdout), accepted, port };
  } finally {
    await killChild(srv);
  }
}

describe('harness: 2-node mesh with pods a, b on node1 and c on node2', () => {
  let mesh: Mesh;
  let a: Pod;
  let b: Pod;
  let c: Pod;

  beforeAll(async () => {
    requirePrivileged();
    mesh = await createMesh({ nodes: 2 });
    a = await mesh.nodes[0].addPod('a');
    b = await mesh.nodes[0].addPod('b');
    c = await mesh.nodes[1].addPod('c');
  });
  afterAll(() => mesh?.destroy());

  it('gives nodes and pods their planned addresses, netns and cgroups', async () => {
    expect(mesh.nodes.map((n) => [n.name, n.index])).toEqual([['node1', 1], ['node2', 2]]);
    expect([a.ipv4, b.ipv4, c.ipv4]).toEqual(['198.18.1.10', '198.18.1.11', '198.18.2.10']);
    expect([a.ipv6, b.ipv6, c.ipv6]).toEqual(['fd00:a3b1:1::10', 'fd00:a3b1:1::11', 'fd00:a3b1:2::10']);
    expect(mesh.pods.map((p) => p.name)).toEqual(['a', 'b', 'c']);
    expect(mesh.pod('c')).toBe(c);

    const eth0 = await a.exec('ip', ['-o', 'addr', 'show', 'dev', 'eth0']);
    expect(eth0.code).toBe(0);
    expect(eth0.stdout).toContain('inet 198.18.1.10/24');
    expect(eth0.stdout).toContain('inet6 fd00:a3b1:1::10/64');
    expect(eth0.stdout).not.toContain('tentative'); // usable at once, link-local included
    const br0 = await mesh.nodes[1].exec('ip', ['-o', 'addr', 'show', 'dev', 'br0']);
    expect(br0.stdout).toContain('inet 198.18.2.1/24');
    expect(br0.stdout).toContain('inet6 fd00:a3b1:2::1/64');
    const fwd = await mesh.nodes[0].exec('cat', ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv6/conf/all/forwarding']);
    expect(fwd.stdout.split('\n').slice(0, 2)).toEqual(['1', '1']);

    expect(mesh.cgroupRoot).toBe(path.join(findCgroup2Mount(), mesh.name));
    expect(mesh.nodes[0].cgroupPath).toBe(path.join(mesh.cgroupRoot, 'node1'));
    expect(a.cgroupPath).toBe(path.join(mesh.cgroupRoot, 'node1', 'a'));
    expect(c.cgroupPath).toBe(path.join(mesh.cgroupRoot, 'node2', 'c'));
    for (const p of [a, b, c]) {
      expect(fs.statSync(p.cgroupPath).isDirectory()).toBe(true);
      expect(p.netnsPath).toBe(`/run/netns/${p.netnsName}`);
      expect(p.netnsName.startsWith(runPrefix())).toBe(true);
      expect(p.hostVeth.length).toBeLessThanOrEqual(15);
    }
    expect(fs.statSync(mesh.pinDir).isDirectory()).toBe(true);
    expect(listLeftovers().netns.sort()).toEqual(
      [...mesh.nodes.map((n) => n.netns), ...mesh.pods.map((p) => p.netnsName)].sort(),
    );
  });

  it.each([
    ['IPv4', () => c.ipv4],
    ['IPv6', () => c.ipv6],
  ])('connects over TCP from pod a (node1) to pod c (node2) over %s', async (_family, host) => {
    const { res, reply, accepted } = await tcpRoundTrip(a, c, host());
    expect(res.code).toBe(0);
    const fromA = host().includes(':') ? a.ipv6 : a.ipv4;
    expect(reply).toMatchObject({ ok: true, reply: 'ping', localAddress: fromA, remoteAddress: host() });
    // Routed, not NATed: the server sees pod a's own address.
    expect(accepted).toMatchObject({ remoteAddress: fromA, localAddress: host() });
  });

  it('connects over TCP between pods on the same node and from node2 back to node1', async () => {
    expect((await tcpRoundTrip(b, a, a.ipv4)).reply).toMatchObject({ ok: true, localAddress: b.ipv4 });
    expect((await tcpRoundTrip(c, b, b.ipv6)).reply).toMatchObject({ ok: true, localAddress: c.ipv6 });
  });

  it('reports a refused connection as a JSON result, not a hang', async () => {
    const res = await a.execNode(TCP_CLIENT, ['--host', c.ipv4, '--port', '9', '--timeout', '3000']);
    expect(res.code).toBe(1);
    expect(lastJsonLine(res.stdout)).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
  });

  it('starts processes in the pod cgroup and netns from their first instruction', async () => {
    const ns = netnsIdentity(a.netnsPath);
    const first = await a.exec('sh', ['-c', 'cat /proc/self/cgroup; readlink /proc/self/ns/net']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`0::/${path.relative(findCgroup2Mount(), a.cgroupPath)}\n`);
    expect(first.stdout).toContain(`net:[${ns.ino}]`);

    const child = a.spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = child.pid as number;
      await execed(pid, 'sleep');
      const cgLine = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
      expect(cgLine).toBe(`0::/${path.relative(findCgroup2Mount(), a.cgroupPath)}`);
      expect(cgroupOfPid(pid)).toBe(a.cgroupPath);
      expect(cgroupProcs(a.cgroupPath)).toContain(pid);
      expect(fs.readlinkSync(`/proc/${pid}/ns/net`)).toBe(`net:[${ns.ino}]`);
      expect(netnsIdentity(`/proc/${pid}/ns/net`)).toEqual(ns);
      expect(netnsIdentity(`/proc/${pid}/ns/net`)).not.toEqual(netnsIdentity('/proc/self/ns/net'));
    } finally {
      await killChild(child);
    }
    expect(cgroupProcs(a.cgroupPath)).toEqual([]);
  });

  it('runs node-level processes in the node netns, outside the pods cgroup subtree', async () => {
    const node = mesh.nodes[0];
    const res = await node.exec('sh', ['-c', 'cat /proc/self/cgroup; readlink /proc/self/ns/net']);
    expect(res.stdout).toContain(`0::/${path.relative(findCgroup2Mount(), node.hostCgroupPath)}\n`);
    expect(res.stdout).toContain(`net:[${netnsIdentity(node.netnsPath).ino}]`);
    expect(node.hostCgroupPath.startsWith(`${node.cgroupPath}/`)).toBe(false);
  });

  it('kills a pod.exec command that outlives its timeout', async () => {
    const started = Date.now();
    await expect(a.exec('sleep', ['30'], { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'AMBIT_ERR_HARNESS_EXEC_TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(cgroupProcs(a.cgroupPath)).toEqual([]);
  });

  it('exposes cgroup v2 ids and refuses the machine root (common/cgroup2)', () => {
    const mount = findCgroup2Mount();
    expect(isCgroup2Root(mount)).toBe(true);
    expect(isCgroup2Root(`${mount}/`)).toBe(true);
    expect(isCgroup2Root(mesh.cgroupRoot)).toBe(false);
    expect(isCgroup2Root(mesh.nodes[0].cgroupPath)).toBe(false);
    expect(cgroupId(a.cgroupPath)).toBe(fs.statSync(a.cgroupPath, { bigint: true }).ino);
    expect(cgroupId(a.cgroupPath)).not.toBe(cgroupId(b.cgroupPath));
    expect(() => cgroupId('/tmp')).toThrow(expect.objectContaining({ code: 'AMBIT_ERR_NOT_CGROUP2' }));
  });

  it('rejects a duplicate pod name and more nodes than it can link', async () => {
    await expect(mesh.nodes[1].addPod('a')).rejects.toThrow(/already has a pod called "a"/);
    await expect(mesh.nodes[1].addPod('Not_A_Label')).rejects.toThrow(/DNS label/);
    await expect(createMesh({ nodes: 3 })).rejects.toThrow(RangeError);
  });
});

describe('harness teardown', () => {
  beforeAll(() => requirePrivileged());

  it('mesh.destroy() kills processes still running and removes every netns, cgroup and pin', async () => {
    const mesh = await createMesh({ nodes: 2 });
    const x = await mesh.nodes[0].addPod('x');
    await mesh.nodes[1].addPod('y');
    const inPod = x.spawn('sleep', ['1000'], { stdio: 'ignore' });
    const onNode = mesh.nodes[1].spawn('sleep', ['1000'], { stdio: 'ignore' });
    fs.mkdirSync(path.join(mesh.pinDir, 'sub')); // bpffs only holds dirs and pinned objects
    const names = [...mesh.nodes.map((n) => n.netns), ...mesh.pods.map((p) => p.netnsName)];

    await Promise.all([mesh.destroy(), mesh.destroy()]);
    await mesh.destroy(); // idempotent

    expect(await exitOf(inPod)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await exitOf(onNode)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(alive(inPod.pid as number)).toBe(false);
    // The first describe's mesh was destroyed in its afterAll: nothing of this process remains.
    expect(listLeftovers()).toEqual(NOTHING);
    const ipList = await run('ip', ['netns', 'list']);
    for (const name of names) expect(ipList).not.toContain(name);
    expect(fs.existsSync(mesh.cgroupRoot)).toBe(false);
    expect(fs.existsSync(mesh.pinDir)).toBe(false);
    await expect(mesh.nodes[0].addPod('z')).rejects.toThrow(/destroyed/);
  });

  it('a half-built pod is still removed by destroy()', async () => {
    const mesh = await createMesh({ nodes: 1 });
    // Occupy the pod's cgroup path so addPod fails after its netns and veth exist.
    fs.mkdirSync(path.join(mesh.nodes[0].cgroupPath, 'late'));
    await expect(mesh.nodes[0].addPod('late')).rejects.toThrow(/EEXIST/);
    expect(listLeftovers().netns).toHaveLength(2); // node + the half-built pod
    await mesh.destroy();
    expect(listLeftovers()).toEqual(NOTHING);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s to a process using the harness cleans up, then re-raises', async (sig) => {
    const child = spawn(process.execPath, [LIFECYCLE], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = JSON.parse(await waitForLine(child, '"ready"', 20_000)) as { childPid: number; cgroupRoot: string };
    const prefix = runPrefix(child.pid as number);
    expect(listLeftovers(prefix).netns).toHaveLength(2);
    expect(alive(ready.childPid)).toBe(true);

    child.kill(sig);
    expect(await exitOf(child)).toEqual({ code: null, signal: sig });
    expect(listLeftovers(prefix)).toEqual(NOTHING);
    expect(alive(ready.childPid)).toBe(false);
  });

  it.each(['exit', 'return'])('a process that ends without destroying its mesh cleans up (%s)', async (mode) => {
    const child = spawn(process.execPath, [LIFECYCLE, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = JSON.parse(await waitForLine(child, '"ready"', 20_000)) as { childPid: number };
    expect(await exitOf(child)).toEqual({ code: 0, signal: null });
    expect(listLeftovers(runPrefix(child.pid as number))).toEqual(NOTHING);
    expect(alive(ready.childPid)).toBe(false);
  });

  it('the sweeper removes what a SIGKILLed run left behind', async () => {
    const child = spawn(process.execPath, [LIFECYCLE], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = JSON.parse(await waitForLine(child, '"ready"', 20_000)) as { childPid: number };
    const prefix = runPrefix(child.pid as number);
    child.kill('SIGKILL'); // no chance to clean up
    await exitOf(child);
    const left = listLeftovers(prefix);
    expect(left.netns).toHaveLength(2);
    expect(left.cgroups).toHaveLength(1);
    expect(left.pins).toHaveLength(1);
    expect(alive(ready.childPid)).toBe(true); // the pod's process outlived its parent

    // (A concurrent run's global-setup may sweep them first: assert the outcome, not who did it.)
    await sweepLeftovers();
    expect(listLeftovers(prefix)).toEqual(NOTHING);
    expect(alive(ready.childPid)).toBe(false);
  });
});
