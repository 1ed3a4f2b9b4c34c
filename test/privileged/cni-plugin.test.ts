/**
 * ambit-cni (native/cni/, built to build/Release/ambit-cni) end to end: the plugin binary run as a
 * container runtime runs it (CNI_* environment, network config with prevResult on stdin) against
 * a real ambit-agent with a real control plane, in a test mesh's node. Pods are sandboxes the test
 * owns (netns + cgroup); everything is removed at the end, also on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findCgroup2Mount } from '../../common/cgroup2';
import { createMesh, requirePrivileged, type Mesh } from '../harness';
import {
  AgentRun,
  CniWorld,
  PLUGIN,
  agentAdmin,
  enrolledPods,
  listeningPorts,
  prevResult,
  runPlugin,
  sleep,
  tempDir,
  type PodSandbox,
} from './cni-env';

jest.setTimeout(240_000);

const IN_POD_PORTS = [15001, 15006, 15008];
const UIDS = {
  app: '0b6f3c1e-8a51-4c3e-9d0a-7c1f00000001',
  outsider: '0b6f3c1e-8a51-4c3e-9d0a-7c1f00000002',
  ghost: '0b6f3c1e-8a51-4c3e-9d0a-7c1f00000003',
  searched: '0b6f3c1e-8a51-4c3e-9d0a-7c1f00000004',
  system: '0b6f3c1e-8a51-4c3e-9d0a-7c1f00000005',
  late: '0b6f3c1e-8a51-4c3e-9d0a-7c1f00000006',
  slow: '0b6f3c1e-8a51-4c3e-9d0a-7c1f00000007',
};

describe('ambit-cni: the chained CNI plugin against a running agent', () => {
  let mesh: Mesh | undefined;
  let world: CniWorld | undefined;
  let agent: AgentRun | undefined;
  let dir: string;
  let app: PodSandbox;
  let outsider: PodSandbox;
  let ghost: PodSandbox;
  let searched: PodSandbox;
  let system: PodSandbox;
  let late: PodSandbox;
  let slow: PodSandbox;
  const helpers: ChildProcess[] = [];

  /** The runtime's cgroupPath capability: cgroupfs form, relative to the cgroup2 mount. */
  const runtimeCgroup = (s: PodSandbox): string => s.pod.cgroupPath.slice(findCgroup2Mount().length);

  const conf = (s: PodSandbox, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'ambit-cni',
    socketPath: world!.socketPath,
    recordDir: world!.recordDir,
    timeoutMs: 20_000,
    runtimeConfig: { cgroupPath: runtimeCgroup(s) },
    prevResult: prevResult(s),
    ...extra,
  });
  const recordFile = (s: PodSandbox, recordDir = world!.recordDir): string => path.join(recordDir, `${s.uid}.json`);
  const enrolledUids = async (): Promise<string[]> => (await enrolledPods(world!.node)).map((p) => p.uid).sort();

  beforeAll(async () => {
    requirePrivileged();
    if (!fs.existsSync(PLUGIN)) throw new Error(`${PLUGIN} is missing: build it with npm run build:native (or npm run setup)`);
    mesh = await createMesh({ nodes: 1 });
    dir = tempDir();
    world = await CniWorld.create(mesh, dir);
    app = await world.sandbox('mesh', 'app', UIDS.app);
    outsider = await world.sandbox('plain', 'outsider', UIDS.outsider);
    ghost = await world.sandbox('mesh', 'ghost', UIDS.ghost);
    // Named as the kubelet's cgroupfs driver names a pod cgroup: pod<uid>.
    searched = await world.sandbox('mesh', 'searched', UIDS.searched, `pod${UIDS.searched}`);
    system = await world.sandbox('kube-system', 'coredns', UIDS.system, 'coredns');
    late = await world.sandbox('mesh', 'late', UIDS.late);
    slow = await world.sandbox('mesh', 'slow', UIDS.slow);
    world.publish(app, 'app-sa');
    world.publish(outsider, 'default');
    world.publish(searched, 'searched-sa');
    world.publish(late, 'late-sa');
    agent = await AgentRun.start(world);
  });

  afterAll(async () => {
    try {
      for (const h of helpers) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
      await agent?.stop();
      await world?.close();
    } finally {
      await mesh?.destroy();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('VERSION lists the spec versions it supports', async () => {
    const r = await runPlugin('VERSION', undefined, { cniVersion: '1.1.0' });
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ cniVersion: '1.1.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] });
  });

  it('ADD of an ambient pod returns only once the agent has enrolled it, and passes prevResult on unchanged', async () => {
    const r = await runPlugin('ADD', app, conf(app));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${JSON.stringify(prevResult(app))}\n`);

    // Checked right after the plugin exited: enrollment is synchronous.
    const pods = await enrolledPods(world!.node);
    expect(pods).toEqual([
      expect.objectContaining({ uid: UIDS.app, name: 'mesh/app', identity: 'spiffe://cluster.local/ns/mesh/sa/app-sa', ips: [app.pod.ipv4, app.pod.ipv6] }),
    ]);
    expect(await listeningPorts(app.pod)).toEqual(expect.arrayContaining(IN_POD_PORTS));
    expect(agent!.logs('enrollment client connected').map((l) => l.client)).toContain('ambit-cni ADD mesh/app');

    const record = JSON.parse(fs.readFileSync(recordFile(app), 'utf8')) as Record<string, unknown>;
    const st = fs.statSync(app.pod.netnsPath, { bigint: true });
    expect(record).toEqual({
      version: 1,
      uid: UIDS.app,
      namespace: 'mesh',
      name: 'app',
      containerId: app.containerId,
      netns: app.pod.netnsPath,
      netnsInode: `${st.dev}:${st.ino}`,
      cgroupPath: app.pod.cgroupPath,
      ips: [app.pod.ipv4, app.pod.ipv6],
    });
    expect(fs.statSync(recordFile(app)).mode & 0o777).toBe(0o600);

    // The runtime may repeat an ADD: same answer, nothing doubled.
    const again = await runPlugin('ADD', app, conf(app));
    expect(again.code).toBe(0);
    expect(await enrolledUids()).toEqual([UIDS.app]);
  });

  it('CHECK and STATUS succeed while the agent runs', async () => {
    const check = await runPlugin('CHECK', app, conf(app));
    expect(check).toMatchObject({ code: 0, stdout: '' });
    const status = await runPlugin('STATUS', undefined, { cniVersion: '1.1.0', name: 'k8s-pod-network', type: 'ambit-cni', socketPath: world!.socketPath });
    expect(status).toMatchObject({ code: 0, stdout: '' });
  });

  it('ADD of a pod that is not ambient passes prevResult on and enrolls nothing', async () => {
    const r = await runPlugin('ADD', outsider, conf(outsider));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${JSON.stringify(prevResult(outsider))}\n`);
    expect(r.stderr).toContain('plain/outsider is not ambient');
    expect(await enrolledUids()).toEqual([UIDS.app]);
    expect(fs.existsSync(recordFile(outsider))).toBe(false);
    expect(await listeningPorts(outsider.pod)).toEqual([]);
  });

  it('ADD of a pod the mesh config does not list fails closed with "try again later"', async () => {
    const r = await runPlugin('ADD', ghost, conf(ghost));
    expect(r.code).not.toBe(0);
    expect(r.json).toEqual({
      cniVersion: '1.0.0',
      code: 11,
      msg: 'the ambit agent did not enroll pod mesh/ghost',
      details: expect.stringMatching(/^AMBIT_ERR_ENROLL_UNKNOWN_WORKLOAD: the mesh config .* has no pod mesh\/ghost on node node1/),
    });
    expect(r.ms).toBeGreaterThanOrEqual(4_500); // the agent waited for a config that might list it
    expect(await enrolledUids()).toEqual([UIDS.app]);
    expect(fs.existsSync(recordFile(ghost))).toBe(false);
    expect(await listeningPorts(ghost.pod)).toEqual([]);
  });

  it('ADD of a pod the config lists only while the agent waits: enrolled as soon as the config arrives', async () => {
    const pending = runPlugin('ADD', slow, conf(slow));
    await sleep(1_000);
    world!.publish(slow, 'slow-sa');
    const r = await pending;
    expect(r.code).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(1_000);
    expect(r.ms).toBeLessThan(4_500);
    expect((await enrolledPods(world!.node)).find((p) => p.uid === UIDS.slow)).toMatchObject({ identity: 'spiffe://cluster.local/ns/mesh/sa/slow-sa' });
    expect((await runPlugin('DEL', slow, conf(slow))).code).toBe(0);
    expect(await enrolledUids()).toEqual([UIDS.app]);
  });

  it('ADD finds the pod cgroup named after the pod uid when the runtime passes none', async () => {
    const { runtimeConfig: _omitted, ...noRuntime } = conf(searched);
    const r = await runPlugin('ADD', searched, { ...noRuntime, podCgroupRoot: world!.node.cgroupPath });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${JSON.stringify(prevResult(searched))}\n`);
    expect(await enrolledUids()).toEqual([UIDS.app, UIDS.searched].sort());
    expect((JSON.parse(fs.readFileSync(recordFile(searched), 'utf8')) as { cgroupPath: string }).cgroupPath).toBe(searched.pod.cgroupPath);

    // Not there: a clear error naming what to configure, nothing enrolled.
    const miss = await runPlugin('ADD', late, { ...conf(late), runtimeConfig: undefined, podCgroupRoot: path.join(world!.node.cgroupPath, 'nothing-here') });
    expect(miss.json).toMatchObject({ code: 101, msg: expect.stringContaining('cgroupPath capability') });
    expect(await enrolledUids()).toEqual([UIDS.app, UIDS.searched].sort());
  });

  it('pods in an excluded namespace pass without the agent being asked', async () => {
    const before = agent!.logs('enrollment client connected').length;
    const r = await runPlugin('ADD', system, conf(system));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${JSON.stringify(prevResult(system))}\n`);
    expect(agent!.logs('enrollment client connected').length).toBe(before);
    expect(fs.existsSync(recordFile(system))).toBe(false);
  });

  it('DEL takes the pod out and is idempotent; a late DEL of a replaced sandbox leaves the new one enrolled', async () => {
    // A new sandbox of pod `late` replaces an old one whose DEL has not come yet.
    const old = { ...late, containerId: 'sandbox-late-old' };
    expect((await runPlugin('ADD', old, conf(old))).code).toBe(0);
    expect((await runPlugin('ADD', late, conf(late))).code).toBe(0);
    expect((JSON.parse(fs.readFileSync(recordFile(late), 'utf8')) as { containerId: string }).containerId).toBe(late.containerId);
    const stale = await runPlugin('DEL', old, conf(old));
    expect(stale).toMatchObject({ code: 0, stdout: '' });
    expect(stale.stderr).toContain('ignored');
    expect(await enrolledUids()).toContain(UIDS.late);

    const del = await runPlugin('DEL', late, conf(late));
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(await enrolledUids()).not.toContain(UIDS.late);
    expect(await listeningPorts(late.pod)).toEqual([]);
    expect(fs.existsSync(recordFile(late))).toBe(false);
    expect((await runPlugin('DEL', late, conf(late))).code).toBe(0);
  });

  it('pods ADDed before an agent restart are re-enrolled from the record; meanwhile ADD fails closed', async () => {
    expect(await enrolledUids()).toEqual([UIDS.app, UIDS.searched].sort());
    // Records the agent must drop: a namespace that is gone, a path that now names another one.
    const gone = { ...JSON.parse(fs.readFileSync(recordFile(app), 'utf8')), uid: 'gone-1', name: 'gone', netns: '/run/netns/ambit-t-no-such-netns' };
    fs.writeFileSync(path.join(world!.recordDir, 'gone-1.json'), JSON.stringify(gone));
    const reused = { ...JSON.parse(fs.readFileSync(recordFile(app), 'utf8')), uid: 'reused-1', name: 'reused', netnsInode: '1:1' };
    fs.writeFileSync(path.join(world!.recordDir, 'reused-1.json'), JSON.stringify(reused));
    // A pod whose runtime names its netns by a host pid (cri-dockerd) the agent cannot see: not
    // proof it is gone; its record and capture must stay.
    const docker: PodSandbox = { ...app, uid: 'docker-1', name: 'docker', containerId: 'sandbox-docker' };
    const dockerRecord = { ...JSON.parse(fs.readFileSync(recordFile(app), 'utf8')), uid: 'docker-1', name: 'docker', containerId: 'sandbox-docker', netns: '/proc/999999999/ns/net' };
    fs.writeFileSync(recordFile(docker), JSON.stringify(dockerRecord));

    await agent!.stop();
    // No agent: an ambient pod may not start.
    const refused = await runPlugin('ADD', late, conf(late));
    expect(refused.json).toMatchObject({ code: 11, msg: `ambit agent socket ${world!.socketPath} not found: is the ambit-agent DaemonSet running on this node?` });
    expect(refused.ms).toBeLessThan(2_000);
    expect(fs.existsSync(recordFile(late))).toBe(false);
    // STATUS stays ready: the node's network must not go not-ready (the agent pod itself needs it).
    const status = await runPlugin('STATUS', undefined, conf(app));
    expect(status).toMatchObject({ code: 0, stdout: '' });

    agent = await AgentRun.start(world!);
    // The records were read before the socket opened: the pods are back as soon as it listens.
    expect(await enrolledUids()).toEqual([UIDS.app, UIDS.searched].sort());
    expect(await listeningPorts(app.pod)).toEqual(expect.arrayContaining(IN_POD_PORTS));
    expect(await listeningPorts(searched.pod)).toEqual(expect.arrayContaining(IN_POD_PORTS));
    const [summary] = agent.logs('re-enrolled the pods the CNI plugin recorded');
    expect(summary).toMatchObject({
      enrolled: expect.arrayContaining(['mesh/app', 'mesh/searched']),
      gone: expect.arrayContaining(['mesh/gone', 'mesh/reused']),
      unknown: [{ pod: 'mesh/docker', reason: expect.stringContaining('hostPID') }],
      failed: [],
    });
    expect(fs.readdirSync(world!.recordDir).sort()).toEqual([`${UIDS.app}.json`, `${UIDS.searched}.json`, 'docker-1.json'].sort());
    // Not ready while a recorded pod is not served, and says which and why.
    let ready = await agentAdmin(world!.node, '/healthz/ready', 15021);
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('mesh/docker: network namespace not visible');
    // Its DEL (the pod was deleted) settles it: the record stood in for the snapshot, the agent
    // reports its pods synced and becomes ready.
    expect(await runPlugin('DEL', docker, conf(docker))).toMatchObject({ code: 0, stdout: '' });
    expect(fs.existsSync(recordFile(docker))).toBe(false);
    ready = await agentAdmin(world!.node, '/healthz/ready', 15021);
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await sleep(200);
      ready = await agentAdmin(world!.node, '/healthz/ready', 15021);
    }
    expect(ready).toMatchObject({ status: 200 });

    // Pods keep working as before: DEL through the new agent.
    expect((await runPlugin('DEL', searched, conf(searched))).code).toBe(0);
    expect(await enrolledUids()).toEqual([UIDS.app]);
  });

  it('GC removes the pods of attachments the runtime no longer has', async () => {
    expect((await runPlugin('ADD', searched, conf(searched))).code).toBe(0);
    expect(await enrolledUids()).toEqual([UIDS.app, UIDS.searched].sort());
    const gc = await runPlugin('GC', undefined, {
      cniVersion: '1.1.0',
      name: 'k8s-pod-network',
      type: 'ambit-cni',
      socketPath: world!.socketPath,
      recordDir: world!.recordDir,
      'cni.dev/valid-attachments': [{ containerID: app.containerId, ifname: 'eth0' }],
    });
    expect(gc).toMatchObject({ code: 0, stdout: '' });
    expect(await enrolledUids()).toEqual([UIDS.app]);
    expect(fs.existsSync(recordFile(searched))).toBe(false);
  });

  describe('without an agent', () => {
    let noAgentDir: string;
    const confAt = (s: PodSandbox, socketPath: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      ...conf(s),
      socketPath,
      recordDir: path.join(noAgentDir, 'records'),
      ...extra,
    });

    beforeAll(() => {
      noAgentDir = path.join(dir, 'no-agent');
      fs.mkdirSync(noAgentDir);
    });

    it('no socket: ADD fails fast with code 11 and says what to check; nothing is recorded', async () => {
      const sock = path.join(noAgentDir, 'absent.sock');
      const r = await runPlugin('ADD', late, confAt(late, sock));
      expect(r.code).not.toBe(0);
      expect(r.json).toEqual({ cniVersion: '1.0.0', code: 11, msg: `ambit agent socket ${sock} not found: is the ambit-agent DaemonSet running on this node?` });
      expect(r.ms).toBeLessThan(2_000);
      expect(fs.readdirSync(path.join(noAgentDir, 'records'))).toEqual([]);
    });

    it('a socket file nobody listens on: code 11, fast', async () => {
      const sock = path.join(noAgentDir, 'stale.sock');
      const py = spawn('python3', ['-c', `import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(${JSON.stringify(sock)})`]);
      helpers.push(py);
      await new Promise((resolve) => py.once('close', resolve));
      expect(fs.statSync(sock).isSocket()).toBe(true);
      const r = await runPlugin('ADD', late, confAt(late, sock));
      expect(r.json).toMatchObject({ code: 11, msg: expect.stringContaining(`nothing listens on the ambit agent socket ${sock}`) });
      expect(r.ms).toBeLessThan(2_000);
    });

    it('a listener that never answers: code 11 after timeoutMs, not before', async () => {
      const sock = path.join(noAgentDir, 'stuck.sock');
      const py = spawn('python3', [
        '-c',
        `import socket, time; s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(${JSON.stringify(sock)}); s.listen(8); print('ok', flush=True); time.sleep(120)`,
      ]);
      helpers.push(py);
      await new Promise((resolve) => py.stdout.once('data', resolve));
      try {
        const r = await runPlugin('ADD', late, confAt(late, sock, { timeoutMs: 1_000 }));
        expect(r.json).toMatchObject({ code: 11, msg: expect.stringContaining('did not answer hello') });
        expect(r.ms).toBeGreaterThanOrEqual(1_000);
        expect(r.ms).toBeLessThan(3_000);
        expect(fs.readdirSync(path.join(noAgentDir, 'records'))).toEqual([]);
      } finally {
        py.kill('SIGKILL');
      }
    });

    it('DEL succeeds and drops the record; CHECK of a recorded pod fails; STATUS stays ready; excluded pods pass', async () => {
      const sock = path.join(noAgentDir, 'absent.sock');
      const records = path.join(noAgentDir, 'records');
      fs.writeFileSync(path.join(records, `${late.uid}.json`), fs.readFileSync(recordFile(app), 'utf8').replace(app.containerId, late.containerId).replace(UIDS.app, UIDS.late));
      const check = await runPlugin('CHECK', late, confAt(late, sock));
      expect(check.json).toMatchObject({ code: 11 });
      const del = await runPlugin('DEL', late, confAt(late, sock));
      expect(del).toMatchObject({ code: 0, stdout: '' });
      expect(fs.readdirSync(records)).toEqual([]);
      // ADD fails closed per pod; STATUS must not take the node's network down with it.
      const status = await runPlugin('STATUS', undefined, confAt(late, sock));
      expect(status).toMatchObject({ code: 0, stdout: '' });
      expect(status.ms).toBeLessThan(2_000);
      const excluded = await runPlugin('ADD', system, confAt(system, sock));
      expect(excluded.code).toBe(0);
      expect(excluded.stdout).toBe(`${JSON.stringify(prevResult(system))}\n`);
    });

    it('bad input gets the spec error codes', async () => {
      const sock = path.join(noAgentDir, 'absent.sock');
      expect((await runPlugin('ADD', late, { ...confAt(late, sock), cniVersion: '0.3.1' })).json).toMatchObject({ code: 1 });
      expect((await runPlugin('ADD', late, { ...confAt(late, sock), prevResult: undefined })).json).toMatchObject({
        code: 7,
        msg: expect.stringContaining('chained plugin'),
      });
      expect((await runPlugin('ADD', late, { ...confAt(late, sock), timeoutMs: 'soon' })).json).toMatchObject({ code: 7, msg: expect.stringContaining('timeoutMs') });
      expect((await runPlugin('ADD', { ...late, uid: 'Not A UID!' }, confAt(late, sock))).json).toMatchObject({ code: 4 });
    });
  });
});
