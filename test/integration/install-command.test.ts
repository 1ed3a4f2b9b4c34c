// `ambit install` as a user runs it: a separate process, manifests on stdout, progress on stderr.
// The manifests parse as YAML documents that are valid for the Kubernetes API at 1.33 (in this
// process) and 1.36 (kubernetes-models 5, ESM only, checked in a child process); bad values and a
// missing kubectl or cluster fail with exit 2 and a clear message; the CNI installer the chart runs
// (`ambit cni-install`), with the chart's settings, chains the entry the agent serves on a scratch
// CNI layout.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { AMBIT_CLI, TS_REGISTER, type CliResult } from '../harness/ambit-cli';
import { ciValues, isBuiltin, problems, render, ROOT } from '../unit/chart-support';
import type { Manifest } from '../../cli/install/render-chart';

function install(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-r', TS_REGISTER, AMBIT_CLI, 'install', ...args], { encoding: 'utf8', env, timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The stdout stream as objects, each wrapped like a rendered Manifest for problems(). */
function parseStream(stdout: string): Manifest[] {
  const docs = YAML.parseAllDocuments(stdout, { version: '1.1' });
  for (const d of docs) expect(d.errors).toEqual([]);
  return docs
    .map((d) => d.toJS() as Manifest['object'] | null)
    .filter((o): o is Manifest['object'] => o !== null)
    .map((object) => ({ source: 'stdout', text: '', object, isCrd: object.kind === 'CustomResourceDefinition' }));
}

/** Problems against the Kubernetes 1.36.0 OpenAPI schemas (kubernetes-models 5.1.0, an ES module). */
function k8s136Problems(objects: readonly object[]): string[] {
  const script = `
    import fs from 'node:fs';
    const out = [];
    for (const o of JSON.parse(fs.readFileSync(0, 'utf8'))) {
      const mod = await import('kubernetes-models-v1.36/' + o.apiVersion + '/' + o.kind);
      try { new mod[o.kind](o).validate(); }
      catch (e) { for (const x of e.errors ?? [{ instancePath: '', message: e.message }]) out.push(o.kind + '/' + o.metadata.name + ' ' + (x.instancePath || '/') + ': ' + x.message); }
    }
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, input: JSON.stringify(objects), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kubernetes-models 1.36 check failed to run: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

const kubectlAvailable = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

describe('ambit install (render)', () => {
  test('prints the default manifests as YAML documents valid for Kubernetes 1.33 and 1.36', async () => {
    const r = await install([]);
    expect(r.stderr).toContain('[install] rendered 22 objects (10 CRDs) for release ambit in namespace ambit-system');
    expect(r.code).toBe(0);
    const manifests = parseStream(r.stdout);
    expect(manifests.map((m) => m.object.kind)).toEqual(render().map((m) => m.object.kind));
    expect(manifests.slice(0, 10).every((m) => m.isCrd)).toBe(true);
    expect(manifests.flatMap(problems)).toEqual([]);
    expect(k8s136Problems(manifests.map((m) => m.object).filter((o) => isBuiltin(o.apiVersion)))).toEqual([]);
  });

  test('values files, --set, namespace, release name and --create-namespace shape the output', async () => {
    const r = await install(['-f', ciValues('full-values.yaml'), '--set', 'agent.dnsCapture=false', '-n', 'mesh-system', '--release-name', 'mesh', '--create-namespace']);
    expect(r.code).toBe(0);
    const manifests = parseStream(r.stdout);
    expect(manifests[0].object).toMatchObject({ kind: 'Namespace', metadata: { name: 'mesh-system' } });
    const ds = manifests.find((m) => m.object.kind === 'DaemonSet')!.object as any;
    expect(ds.metadata).toMatchObject({ name: 'mesh-agent', namespace: 'mesh-system' });
    expect(ds.spec.template.spec.containers[0].env).toContainEqual({ name: 'AMBIT_DNS_CAPTURE', value: 'false' });
    expect(manifests.flatMap(problems)).toEqual([]);
    expect(k8s136Problems(manifests.map((m) => m.object).filter((o) => isBuiltin(o.apiVersion)))).toEqual([]);
  });

  test('--output writes one file per chart source; --skip-crds leaves the CRDs out', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-install-'));
    try {
      const r = await install(['--output', dir, '--skip-crds']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
      expect(fs.existsSync(path.join(dir, 'ambit', 'crds'))).toBe(false);
      const files = fs.readdirSync(path.join(dir, 'ambit', 'templates')).sort();
      expect(files).toEqual(['agent-daemonset.yaml', 'cni-installer.yaml', 'control-plane-rbac.yaml', 'control-plane.yaml', 'gatewayclass.yaml', 'serviceaccounts.yaml']);
      expect(parseStream(fs.readFileSync(path.join(dir, 'ambit', 'templates', 'control-plane-rbac.yaml'), 'utf8')).map((m) => m.object.kind)).toEqual([
        'ClusterRole',
        'ClusterRoleBinding',
        'Role',
        'RoleBinding',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unknown value is refused with exit 2, naming the key, and nothing on stdout', async () => {
    const r = await install(['--set', 'agent.capabilities=ALL']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('agent.capabilities: unknown key "capabilities"');
    expect(r.stderr).toContain('(AMBIT_ERR_INSTALL_VALUES)');
  });

  test('a values file that does not exist is named', async () => {
    const r = await install(['-f', '/nonexistent/values.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot read values file /nonexistent/values.yaml');
  });
});

describe('ambit install --apply', () => {
  test('without kubectl: a clear error before anything else', async () => {
    const r = await install(['--apply'], { ...process.env, PATH: '/nonexistent' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('kubectl not found');
    expect(r.stderr).toContain('(AMBIT_ERR_INSTALL_KUBECTL_MISSING)');
  });

  (kubectlAvailable ? test : test.skip)('with kubectl but no reachable cluster: names the problem, applies nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-kubeconfig-'));
    try {
      // A cluster on a loopback port nothing listens on: connection refused at once.
      const kubeconfig = path.join(dir, 'config');
      fs.writeFileSync(
        kubeconfig,
        YAML.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'none', cluster: { server: 'https://127.0.0.1:1' } }],
          users: [{ name: 'u', user: { token: 'x' } }],
          contexts: [{ name: 'none', context: { cluster: 'none', user: 'u' } }],
          'current-context': 'none',
        }),
      );
      const r = await install(['--apply'], { ...process.env, KUBECONFIG: kubeconfig });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('kubectl cannot reach a cluster');
      expect(r.stderr).toContain('127.0.0.1:1');
      expect(r.stderr).toContain('(AMBIT_ERR_INSTALL_CLUSTER)');
      expect(r.stdout).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ambit install --apply against a kubectl that records what it is asked', () => {
  // A stand-in for kubectl on PATH (a shell script): it reports one CRD as installed and keeps
  // every call and every manifest stream it is given, so the order and content can be checked.
  test('skips CRDs the cluster has, applies and waits for the others, then applies the rest', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-fake-kubectl-'));
    try {
      fs.writeFileSync(
        path.join(dir, 'kubectl'),
        `#!/bin/sh
n=$(ls "${dir}"/call-* 2>/dev/null | wc -l)
echo "$*" > "${dir}/call-$n"
case " $* " in
  *" get "*) echo customresourcedefinition.apiextensions.k8s.io/gateways.gateway.networking.k8s.io ;;
  *" apply "*) cat > "${dir}/stdin-$n"; echo "applied $n" ;;
esac
`,
        { mode: 0o755 },
      );
      const r = await install(['--apply', '--kube-context', 'kind-test'], { ...process.env, PATH: `${dir}:${process.env.PATH}` });
      expect(r.stderr).toContain('[install] CRD gateways.gateway.networking.k8s.io is already installed: left as it is');
      expect(r.code).toBe(0);
      const call = (n: number) => fs.readFileSync(path.join(dir, `call-${n}`), 'utf8').trim();
      expect(call(0)).toBe('--context kind-test get customresourcedefinitions -o name --request-timeout=20s');
      expect(call(1)).toBe('--context kind-test apply -f -');
      const crds = parseStream(fs.readFileSync(path.join(dir, 'stdin-1'), 'utf8'));
      expect(crds).toHaveLength(9);
      expect(crds.every((m) => m.isCrd)).toBe(true);
      expect(crds.map((m) => m.object.metadata.name)).not.toContain('gateways.gateway.networking.k8s.io');
      expect(call(2)).toBe(`--context kind-test wait --for=condition=Established --timeout=60s ${crds.map((m) => `customresourcedefinition/${m.object.metadata.name}`).join(' ')}`);
      expect(call(3)).toBe('--context kind-test apply -f -');
      const rest = parseStream(fs.readFileSync(path.join(dir, 'stdin-3'), 'utf8'));
      expect(rest.map((m) => m.object.kind)).toEqual(render().filter((m) => !m.isCrd).map((m) => m.object.kind));
      expect(r.stdout).toContain('applied 3');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the CNI installer the chart runs (`ambit cni-install` in the agent DaemonSet)', () => {
  const ds = render().find((m) => m.object.kind === 'DaemonSet')!.object as any;
  const container = ds.spec.template.spec.containers.find((c: any) => c.name === 'install-cni');
  const chartEnv: Record<string, string> = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-cni-'));
    for (const d of ['bin', 'net.d', 'image']) fs.mkdirSync(path.join(dir, d));
    fs.writeFileSync(path.join(dir, 'image', 'ambit-cni'), '#!/bin/sh\necho ambit-cni\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("is given the namespaces to pass through: kube-system and Ambit's own, whose pods must start without an agent", () => {
    expect(container.command).toEqual(['ambit', 'cni-install']);
    expect(chartEnv.AMBIT_CNI_EXCLUDE_NAMESPACES).toBe('kube-system,ambit-system');
  });

  test("with the chart's settings (host dirs moved to a scratch dir), chains the entry the agent serves and keeps it on SIGTERM", async () => {
    const primary = { cniVersion: '1.0.0', name: 'k8s-pod-network', plugins: [{ type: 'calico' }, { type: 'portmap', capabilities: { portMappings: true } }] };
    fs.writeFileSync(path.join(dir, 'net.d', '10-calico.conflist'), JSON.stringify(primary));
    const script = `require('yargs')(process.argv.slice(1)).command(require(${JSON.stringify(path.join(ROOT, 'cli', 'cni-installer', 'cni-install-command.ts'))}).cniInstallCommand).parseAsync();`;
    const env = {
      PATH: process.env.PATH,
      ...chartEnv,
      AMBIT_CNI_PLUGIN_SOURCE: path.join(dir, 'image', 'ambit-cni'),
      AMBIT_CNI_BIN_DIR: path.join(dir, 'bin'),
      AMBIT_CNI_CONF_DIR: path.join(dir, 'net.d'),
      // No API server here: the uninstall check is cni-installer.test.ts's.
      AMBIT_CNI_REMOVE_ON_STOP: 'never',
    };
    const child = spawn(process.execPath, ['-r', TS_REGISTER, '-e', script, 'cni-install'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exit = new Promise<number | null>((resolve) => child.once('close', resolve));
    try {
      for (let i = 0; i < 300 && !stderr.includes('keeping ambit-cni chained'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(stderr).toContain('chained ambit-cni in 10-calico.conflist');
      expect(execFileSync(path.join(dir, 'bin', 'ambit-cni'), { encoding: 'utf8' })).toBe('ambit-cni\n');
      const agentEnv = Object.fromEntries(ds.spec.template.spec.containers.find((c: any) => c.name === 'agent').env.map((e: any) => [e.name, e.value]));
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'net.d', '10-calico.conflist'), 'utf8'))).toEqual({
        ...primary,
        plugins: [
          ...primary.plugins,
          {
            type: 'ambit-cni',
            socketPath: agentEnv.AMBIT_ENROLLMENT_SOCKET,
            recordDir: agentEnv.AMBIT_CNI_RECORD_DIR,
            excludeNamespaces: ['kube-system', 'ambit-system'],
            capabilities: { cgroupPath: true },
          },
        ],
      });
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'net.d', '10-calico.conflist'), 'utf8')).plugins).toHaveLength(3);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
