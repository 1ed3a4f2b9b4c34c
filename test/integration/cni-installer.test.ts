// The CNI installer (`ambit cni-install`, cli/cni-installer/) on a scratch CNI layout in a temp
// dir, with real files, a real directory watch and a real Kubernetes API (the test API server):
// it chains ambit-cni into a .conflist or a plain .conf, idempotently and leaving other plugins
// alone, chains it again when the network plugin rewrites its config, and removes the entry and
// the binary on stop only when its DaemonSet is being deleted. Invalid JSON is a clear error.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ambitCniEntry } from '../../cli/cni-installer/cni-config';
import { CniInstallError } from '../../cli/cni-installer/errors';
import { CniInstaller, type CniInstallerOptions } from '../../cli/cni-installer/installer';
import { kubeDaemonSetReader, UninstallDetector } from '../../cli/cni-installer/uninstall-detector';
import type { Logger } from '../../common/log';
import { ROOT } from '../unit/chart-support';
import { TS_REGISTER } from '../harness/ambit-cli';
import { KubeApiServer } from '../support/kube-api-server/server';

const entry = ambitCniEntry({ socketPath: '/var/run/ambit/enrollment.sock', recordDir: '/var/run/ambit/cni-pods', excludeNamespaces: ['kube-system', 'ambit-system'] });
const calico = { type: 'calico', ipam: { type: 'calico-ipam' }, mtu: 1450 };
const portmap = { type: 'portmap', snat: true, capabilities: { portMappings: true } };
const PRIMARY = { cniVersion: '1.0.0', name: 'k8s-pod-network', plugins: [calico, portmap] };
const PLUGIN_BYTES = '#!/bin/sh\necho ambit-cni\n';

/** A logger whose JSON lines the test can read. */
function captureLogs(): { logger: Logger; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let dir: string;
let binDir: string;
let confDir: string;
let source: string;
const running: CniInstaller[] = [];

const conf = (name: string): string => path.join(confDir, name);
const readJson = (name: string): any => JSON.parse(fs.readFileSync(conf(name), 'utf8'));
const writeJson = (name: string, value: unknown): void => fs.writeFileSync(conf(name), JSON.stringify(value, null, 4));
const pluginsOf = (name: string): any[] => readJson(name).plugins;

function installer(extra: Partial<CniInstallerOptions> = {}): { inst: CniInstaller; lines: Array<Record<string, any>> } {
  const { logger, lines } = captureLogs();
  const inst = new CniInstaller({ pluginSource: source, binDir, confDir, entry, logger, resyncMs: 3_600_000, settleMs: 20, retryMs: 50, ...extra });
  running.push(inst);
  return { inst, lines };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-cni-install-'));
  binDir = path.join(dir, 'opt', 'cni', 'bin');
  confDir = path.join(dir, 'etc', 'cni', 'net.d');
  source = path.join(dir, 'image', 'ambit-cni');
  for (const d of [binDir, confDir, path.dirname(source)]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(source, PLUGIN_BYTES, { mode: 0o755 });
});

afterEach(() => {
  for (const i of running.splice(0)) i.stop(false);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('CniInstaller on a scratch CNI layout', () => {
  test('installs the binary and chains ambit-cni last in the primary .conflist; other plugins and files untouched', async () => {
    writeJson('10-calico.conflist', PRIMARY);
    writeJson('99-other.conflist', { ...PRIMARY, name: 'other' });
    fs.writeFileSync(conf('calico-kubeconfig'), 'apiVersion: v1\n');
    fs.chmodSync(conf('10-calico.conflist'), 0o600);
    const { inst, lines } = installer();
    expect(await inst.start()).toEqual({ primary: '10-calico.conflist', chained: true, binaryInstalled: true });
    expect(fs.readFileSync(path.join(binDir, 'ambit-cni'), 'utf8')).toBe(PLUGIN_BYTES);
    expect(fs.statSync(path.join(binDir, 'ambit-cni')).mode & 0o777).toBe(0o755);
    expect(readJson('10-calico.conflist')).toEqual({ ...PRIMARY, plugins: [calico, portmap, entry] });
    expect(fs.statSync(conf('10-calico.conflist')).mode & 0o777).toBe(0o600); // the file's mode is kept
    expect(pluginsOf('99-other.conflist')).toEqual([calico, portmap]);
    expect(fs.readdirSync(confDir).sort()).toEqual(['10-calico.conflist', '99-other.conflist', 'calico-kubeconfig']); // no temp file left
    expect(lines.map((l) => l.msg)).toContain('chained ambit-cni in 10-calico.conflist');
  });

  test('idempotent: a restarted installer finds everything in place and writes nothing', async () => {
    writeJson('10-calico.conflist', PRIMARY);
    await installer().inst.start();
    running.splice(0).forEach((i) => i.stop(false));
    const before = { conf: fs.statSync(conf('10-calico.conflist')), bin: fs.statSync(path.join(binDir, 'ambit-cni')) };
    const text = fs.readFileSync(conf('10-calico.conflist'), 'utf8');
    await new Promise((r) => setTimeout(r, 20));
    const { inst, lines } = installer();
    expect(await inst.start()).toEqual({ primary: '10-calico.conflist', chained: true, binaryInstalled: false });
    expect(fs.readFileSync(conf('10-calico.conflist'), 'utf8')).toBe(text);
    expect(fs.statSync(conf('10-calico.conflist')).ino).toBe(before.conf.ino); // not replaced
    expect(fs.statSync(path.join(binDir, 'ambit-cni')).ino).toBe(before.bin.ino);
    expect(lines.map((l) => l.msg)).toEqual(['ambit-cni already chained in 10-calico.conflist']);
  });

  test('a plain .conf primary becomes a .conflist holding it and ambit-cni; the .conf is removed', async () => {
    const flannel = { cniVersion: '0.4.0', name: 'cbr0', type: 'flannel', delegate: { hairpinMode: true } };
    writeJson('10-flannel.conf', flannel);
    const { inst } = installer();
    expect(await inst.start()).toMatchObject({ primary: '10-flannel.conflist', chained: true });
    expect(fs.readdirSync(confDir)).toEqual(['10-flannel.conflist']);
    expect(readJson('10-flannel.conflist')).toEqual({ cniVersion: '0.4.0', name: 'cbr0', plugins: [{ type: 'flannel', delegate: { hairpinMode: true } }, entry] });
  });

  test('the network plugin rewrites its config without the entry: chained again at once (watch), other plugins as rewritten', async () => {
    writeJson('10-calico.conflist', PRIMARY);
    const { inst, lines } = installer();
    await inst.start();
    // Rewritten the way network plugins do: a new file renamed over the old one.
    const rewritten = { ...PRIMARY, plugins: [{ ...calico, mtu: 1400 }, portmap] };
    fs.writeFileSync(conf('.calico.tmp'), JSON.stringify(rewritten));
    fs.renameSync(conf('.calico.tmp'), conf('10-calico.conflist'));
    await waitFor('the entry back', () => pluginsOf('10-calico.conflist').length === 3);
    expect(readJson('10-calico.conflist')).toEqual({ ...rewritten, plugins: [...rewritten.plugins, entry] });
    expect(lines.map((l) => l.msg)).toContain('re-chained ambit-cni in 10-calico.conflist: the file was rewritten without it');
    // ...and in place (no rename), as some plugins write it.
    writeJson('10-calico.conflist', PRIMARY);
    await waitFor('the entry back again', () => pluginsOf('10-calico.conflist').length === 3);
    // The primary plugin rewriting its plain .conf (after we turned it into a list) is followed too.
    writeJson('05-flannel.conf', { cniVersion: '1.0.0', name: 'cbr0', type: 'flannel' });
    await waitFor('the .conf turned into a chained list', () => fs.existsSync(conf('05-flannel.conflist')) && !fs.existsSync(conf('05-flannel.conf')));
    expect(pluginsOf('05-flannel.conflist')).toEqual([{ type: 'flannel' }, entry]);
  });

  test('a new primary (a file that sorts first) is chained; with no config yet, the first one to appear is', async () => {
    const { inst, lines } = installer();
    expect(await inst.start()).toEqual({ primary: '', chained: false, binaryInstalled: true });
    expect(lines.map((l) => l.msg)).toContain(`no CNI config in ${confDir} yet; chaining ambit-cni when the network plugin writes one`);
    writeJson('20-cilium.conflist', { ...PRIMARY, name: 'cilium', plugins: [{ type: 'cilium-cni' }] });
    await waitFor('cilium chained', () => pluginsOf('20-cilium.conflist').length === 2);
    writeJson('10-calico.conflist', PRIMARY);
    await waitFor('calico chained', () => pluginsOf('10-calico.conflist').length === 3);
  });

  test('a binary that went missing is put back by the periodic check', async () => {
    writeJson('10-calico.conflist', PRIMARY);
    const { inst } = installer({ resyncMs: 100 });
    await inst.start();
    fs.unlinkSync(path.join(binDir, 'ambit-cni'));
    await waitFor('the binary back', () => fs.existsSync(path.join(binDir, 'ambit-cni')));
    expect(fs.readFileSync(path.join(binDir, 'ambit-cni'), 'utf8')).toBe(PLUGIN_BYTES);
  });

  test('stop(true) takes the entry out of every config, then the binary; other plugins untouched; stop(false) leaves both', async () => {
    writeJson('10-calico.conflist', PRIMARY);
    writeJson('99-old.conflist', { ...PRIMARY, name: 'old', plugins: [calico, entry] }); // chained by an earlier primary
    const keep = installer().inst;
    await keep.start();
    expect(keep.stop(false)).toEqual({ unchained: [], binaryRemoved: false, problems: [] });
    expect(pluginsOf('10-calico.conflist')).toHaveLength(3);
    expect(fs.existsSync(path.join(binDir, 'ambit-cni'))).toBe(true);

    const { inst } = installer();
    await inst.start();
    fs.writeFileSync(conf('50-broken.conflist'), '{ not json');
    const result = inst.stop(true);
    expect(result.unchained).toEqual(['10-calico.conflist', '99-old.conflist']);
    expect(result.binaryRemoved).toBe(true);
    expect(result.problems).toEqual([expect.stringMatching(/^50-broken\.conflist: not JSON/)]);
    expect(readJson('10-calico.conflist')).toEqual(PRIMARY);
    expect(pluginsOf('99-old.conflist')).toEqual([calico]);
    expect(fs.existsSync(path.join(binDir, 'ambit-cni'))).toBe(false);
    // Stopped means stopped: a rewrite is no longer followed.
    writeJson('10-calico.conflist', PRIMARY);
    await new Promise((r) => setTimeout(r, 200));
    expect(pluginsOf('10-calico.conflist')).toHaveLength(2);
  });

  test('invalid JSON: start fails with AMBIT_ERR_CNI_INSTALL_CONFIG naming the file, after a few looks', async () => {
    fs.writeFileSync(conf('10-calico.conflist'), '{"cniVersion": "1.0.0", "plugins": [');
    const { inst, lines } = installer();
    const err = await inst.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CniInstallError);
    expect((err as CniInstallError).code).toBe('AMBIT_ERR_CNI_INSTALL_CONFIG');
    expect((err as Error).message).toMatch(/^10-calico\.conflist: not JSON \(.*\); the container runtime cannot load it either: fix or replace the network plugin's config$/);
    expect(lines.filter((l) => l.level === 40 && /not JSON/.test(l.msg))).toHaveLength(2); // looked three times
    expect(fs.readFileSync(conf('10-calico.conflist'), 'utf8')).toBe('{"cniVersion": "1.0.0", "plugins": ['); // left alone
  });

  test('a config caught half-written recovers; one that stays broken ends the installer with the error', async () => {
    writeJson('10-calico.conflist', PRIMARY);
    const { inst } = installer({ retryMs: 150 });
    await inst.start();
    let failure: Error | undefined;
    void inst.failed.then((e) => (failure = e));
    fs.writeFileSync(conf('10-calico.conflist'), '{"cniVersion": "1.0.0", "plug');
    await new Promise((r) => setTimeout(r, 60));
    writeJson('10-calico.conflist', PRIMARY);
    await waitFor('chained after the half write', () => pluginsOf('10-calico.conflist').length === 3);
    expect(failure).toBeUndefined();

    fs.writeFileSync(conf('10-calico.conflist'), 'garbage');
    const err = await inst.failed;
    expect(err).toBeInstanceOf(CniInstallError);
    expect((err as CniInstallError).code).toBe('AMBIT_ERR_CNI_INSTALL_CONFIG');
    expect(err.message).toContain('10-calico.conflist: not JSON');
  });

  test('an unsupported cniVersion is refused, saying what to do', async () => {
    writeJson('10-calico.conflist', { ...PRIMARY, cniVersion: '0.3.1' });
    await expect(installer({ retryMs: 10 }).inst.start()).rejects.toThrow('10-calico.conflist: cniVersion "0.3.1" cannot be chained: ambit-cni speaks 0.4.0, 1.0.0, 1.1.0');
  });

  test('a missing plugin in the image and a missing conf dir are IO errors naming the path', async () => {
    fs.rmSync(source);
    await expect(installer({ retryMs: 10 }).inst.start()).rejects.toMatchObject({ code: 'AMBIT_ERR_CNI_INSTALL_IO', message: expect.stringContaining(`cannot read the plugin ${source} (is it in the image?)`) });
    fs.rmSync(confDir, { recursive: true });
    await expect(installer().inst.start()).rejects.toMatchObject({ code: 'AMBIT_ERR_CNI_INSTALL_IO', message: expect.stringContaining(`cannot watch ${confDir}`) });
  });
});

describe('UninstallDetector: uninstall or restart, asked of the Kubernetes API', () => {
  let api: KubeApiServer;
  let kubeconfig: string;
  const daemonSet = (extra: Record<string, unknown> = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'ambit-agent', namespace: 'ambit-system', ...extra },
    spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'agent', image: 'ambit' }] } } },
  });
  const detector = () => new UninstallDetector(kubeDaemonSetReader(kubeconfig), 'ambit-system/ambit-agent', captureLogs().logger, 2_000);

  beforeEach(async () => {
    api = await KubeApiServer.start();
    kubeconfig = api.writeKubeconfig(dir);
  });
  afterEach(() => api.close());

  test('the DaemonSet still exists (restart, rollout): keep', async () => {
    api.apply(daemonSet());
    const d = detector();
    expect(await d.verify()).toBe(true);
    expect(await d.decide()).toEqual({ remove: false, reason: 'DaemonSet ambit-system/ambit-agent still exists (an agent restart or rollout): ambit-cni stays chained for the next agent pod' });
    expect(api.requests.filter((r) => r.resource === 'apps/daemonsets').map((r) => `${r.verb} ${r.namespace}/${r.name}`)).toEqual(['get ambit-system/ambit-agent', 'get ambit-system/ambit-agent']);
  });

  test('deleted (404) or being deleted (deletionTimestamp): remove', async () => {
    api.apply(daemonSet());
    const d = detector();
    await d.verify();
    api.remove('DaemonSet', 'ambit-system', 'ambit-agent');
    expect(await d.decide()).toEqual({ remove: true, reason: 'DaemonSet ambit-system/ambit-agent is deleted' });
    api.apply(daemonSet({ deletionTimestamp: new Date().toISOString(), finalizers: ['foregroundDeletion'] }));
    expect(await d.decide()).toEqual({ remove: true, reason: 'DaemonSet ambit-system/ambit-agent is being deleted' });
  });

  test("refused (401/403) after a successful read: the release's credentials went with it, remove", async () => {
    api.apply(daemonSet());
    const d = detector();
    await d.verify();
    api.failRequests({ verb: 'get', resource: 'apps/daemonsets' }, 403, 1, 'Forbidden');
    expect(await d.decide()).toMatchObject({ remove: true, reason: expect.stringContaining('can no longer be read (HTTP 403)') });
    api.failRequests({ verb: 'get', resource: 'apps/daemonsets' }, 401, 1, 'Unauthorized');
    expect((await d.decide()).remove).toBe(true);
  });

  test('refused without ever having read it (a permission never granted), a 5xx, or no API: keep', async () => {
    api.failRequests({ verb: 'get', resource: 'apps/daemonsets' }, 403, 2, 'Forbidden');
    const d = detector();
    expect(await d.verify()).toBe(false);
    expect(await d.decide()).toMatchObject({ remove: false, reason: expect.stringContaining('HTTP 403') });
    api.apply(daemonSet());
    const ok = detector();
    await ok.verify();
    api.failRequests({ verb: 'get', resource: 'apps/daemonsets' }, 500, 1);
    expect(await ok.decide()).toMatchObject({ remove: false, reason: expect.stringContaining('cannot tell an uninstall from a restart') });
    await api.close();
    expect(await ok.decide()).toMatchObject({ remove: false, reason: expect.stringContaining('cannot tell an uninstall from a restart') });
  });

  test('a first read that failed (API not reachable yet) is retried until it succeeds, so a later refusal still means uninstall', async () => {
    api.apply(daemonSet());
    api.failRequests({ verb: 'get', resource: 'apps/daemonsets' }, 503, 2, 'ServiceUnavailable');
    const d = detector();
    const cancel = d.verifyUntilReadable(50);
    try {
      await waitFor('three reads', () => api.requests.filter((r) => r.resource === 'apps/daemonsets').length >= 3);
      await new Promise((r) => setTimeout(r, 150));
      expect(api.requests.filter((r) => r.resource === 'apps/daemonsets')).toHaveLength(3); // stops once readable
    } finally {
      cancel();
    }
    api.failRequests({ verb: 'get', resource: 'apps/daemonsets' }, 403, 1, 'Forbidden');
    expect((await d.decide()).remove).toBe(true);
  });

  test('an API that does not answer in time: keep', async () => {
    const slow = new UninstallDetector(() => new Promise(() => undefined), 'ambit-system/ambit-agent', captureLogs().logger, 100);
    expect(await slow.decide()).toEqual({
      remove: false,
      reason: 'reading DaemonSet ambit-system/ambit-agent failed (no answer from the Kubernetes API within 100 ms): cannot tell an uninstall from a restart, so ambit-cni stays chained',
    });
  });
});

describe('ambit cni-install as a process', () => {
  let api: KubeApiServer;
  const children: ChildProcess[] = [];
  // The command module as cli/ambit.ts registers it.
  const SCRIPT = `require('yargs')(process.argv.slice(1)).command(require(${JSON.stringify(path.join(ROOT, 'cli', 'cni-installer', 'cni-install-command.ts'))}).cniInstallCommand).strict().parseAsync();`;

  function start(env: NodeJS.ProcessEnv, args: string[] = []): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
    const child = spawn(process.execPath, ['-r', TS_REGISTER, '-e', SCRIPT, 'cni-install', ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout!.resume();
    const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    return { child, stderr: () => err, exit };
  }

  const envFor = (kubeconfig: string): NodeJS.ProcessEnv => ({
    AMBIT_CNI_PLUGIN_SOURCE: source,
    AMBIT_CNI_BIN_DIR: binDir,
    AMBIT_CNI_CONF_DIR: confDir,
    AMBIT_CNI_EXCLUDE_NAMESPACES: 'kube-system,ambit-system',
    AMBIT_CNI_DAEMONSET: 'ambit-system/ambit-agent',
    AMBIT_KUBECONFIG: kubeconfig,
  });

  beforeEach(async () => {
    api = await KubeApiServer.start();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await api.close();
  });

  test('SIGTERM while the DaemonSet exists keeps the entry (a rollout); once it is deleted, SIGTERM removes entry and binary', async () => {
    writeJson('10-calico.conflist', PRIMARY);
    api.apply({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'ambit-agent', namespace: 'ambit-system' },
      spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'agent', image: 'ambit' }] } } },
    });
    const kubeconfig = api.writeKubeconfig(dir);

    const first = start(envFor(kubeconfig));
    await waitFor('the installer watching', () => first.stderr().includes('keeping ambit-cni chained'), 30_000);
    expect(pluginsOf('10-calico.conflist')).toEqual([calico, portmap, entry]);
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    expect(first.stderr()).toContain('still exists (an agent restart or rollout)');
    expect(pluginsOf('10-calico.conflist')).toEqual([calico, portmap, entry]);
    expect(fs.existsSync(path.join(binDir, 'ambit-cni'))).toBe(true);

    const second = start(envFor(kubeconfig));
    await waitFor('the installer watching', () => second.stderr().includes('keeping ambit-cni chained'), 30_000);
    expect(second.stderr()).toContain('ambit-cni already chained in 10-calico.conflist');
    api.remove('DaemonSet', 'ambit-system', 'ambit-agent');
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
    expect(second.stderr()).toContain('DaemonSet ambit-system/ambit-agent is deleted');
    expect(readJson('10-calico.conflist')).toEqual(PRIMARY);
    expect(fs.existsSync(path.join(binDir, 'ambit-cni'))).toBe(false);
  });

  test('a bad setting: exit 2, naming it', async () => {
    const r = start({ ...envFor('/nonexistent'), AMBIT_CNI_EXCLUDE_NAMESPACES: 'Kube System' });
    expect(await r.exit).toBe(2);
    expect(r.stderr()).toContain('ambit cni-install: excludeNamespaces="Kube System" is invalid');
    expect(r.stderr()).toContain('(AMBIT_ERR_CNI_INSTALL_SETTINGS)');
  });

  test('a primary config that is not JSON: exit 1 with the error (the kubelet restarts the container), nothing written', async () => {
    fs.writeFileSync(conf('10-calico.conflist'), '{');
    const r = start({ ...envFor(''), AMBIT_CNI_REMOVE_ON_STOP: 'never' });
    expect(await r.exit).toBe(1);
    expect(r.stderr()).toContain('cannot install ambit-cni: 10-calico.conflist: not JSON');
    expect(fs.readFileSync(conf('10-calico.conflist'), 'utf8')).toBe('{');
  });
});
