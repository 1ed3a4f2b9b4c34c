// `ambit install` as a user runs it: a separate process, manifests on stdout, progress on stderr.
// The manifests parse as YAML documents that are valid for the Kubernetes API at 1.33 (in this
// process) and 1.36 (kubernetes-models 5, ESM only, checked in a child process); bad values and a
// missing kubectl or cluster fail with exit 2 and a clear message; the CNI installer script the
// chart ships installs and chains the plugin on a scratch CNI layout.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
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

describe('the CNI installer the chart ships', () => {
  const manifests = render();
  const script = (manifests.find((m) => m.object.metadata.name === 'ambit-agent-cni-installer')!.object as any).data['install-cni.js'] as string;

  test('is given the namespaces to pass through: kube-system and Ambit\'s own, whose pods must start without an agent', () => {
    const init = (manifests.find((m) => m.object.kind === 'DaemonSet')!.object as any).spec.template.spec.initContainers[0];
    expect(init.env).toContainEqual({ name: 'CNI_EXCLUDE_NAMESPACES', value: 'kube-system,ambit-system' });
  });
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const runInstaller = () => spawnSync(process.execPath, [path.join(dir, 'install-cni.js')], { env, encoding: 'utf8' });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-cni-'));
    for (const d of ['bin', 'net.d', 'image']) fs.mkdirSync(path.join(dir, d));
    fs.writeFileSync(path.join(dir, 'install-cni.js'), script);
    fs.writeFileSync(path.join(dir, 'image', 'ambit-cni'), '#!/bin/sh\necho ambit-cni\n');
    env = {
      PATH: process.env.PATH,
      CNI_PLUGIN_SOURCE: path.join(dir, 'image', 'ambit-cni'),
      CNI_BIN_DIR: path.join(dir, 'bin'),
      CNI_CONF_DIR: path.join(dir, 'net.d'),
      CNI_WAIT_SECONDS: '0',
      AMBIT_ENROLLMENT_SOCKET: '/var/run/ambit/enrollment.sock',
      AMBIT_CNI_RECORD_DIR: '/var/run/ambit/cni-pods',
      CNI_EXCLUDE_NAMESPACES: 'kube-system,ambit-system',
    };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('copies the plugin and chains it last in the primary conflist, once', () => {
    const primary = { cniVersion: '1.0.0', name: 'k8s-pod-network', plugins: [{ type: 'calico' }, { type: 'portmap', capabilities: { portMappings: true } }] };
    fs.writeFileSync(path.join(dir, 'net.d', '10-calico.conflist'), JSON.stringify(primary));
    fs.writeFileSync(path.join(dir, 'net.d', '99-other.conflist'), JSON.stringify({ ...primary, name: 'other' }));
    const first = runInstaller();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(fs.statSync(path.join(dir, 'bin', 'ambit-cni')).mode & 0o777).toBe(0o755);
    expect(execFileSync(path.join(dir, 'bin', 'ambit-cni'), { encoding: 'utf8' })).toBe('ambit-cni\n');
    const chained = JSON.parse(fs.readFileSync(path.join(dir, 'net.d', '10-calico.conflist'), 'utf8'));
    expect(chained).toEqual({ ...primary, plugins: [
        ...primary.plugins,
        { type: 'ambit-cni', socketPath: '/var/run/ambit/enrollment.sock', recordDir: '/var/run/ambit/cni-pods', excludeNamespaces: ['kube-system', 'ambit-system'] },
      ],
    });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'net.d', '99-other.conflist'), 'utf8')).plugins).toHaveLength(2);
    const again = runInstaller();
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('ambit-cni already chained');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'net.d', '10-calico.conflist'), 'utf8'))).toEqual(chained);
    expect(fs.readdirSync(path.join(dir, 'net.d')).sort()).toEqual(['10-calico.conflist', '99-other.conflist']);
  });

  test('refuses a single-plugin .conf and a node without a network plugin, saying why', () => {
    const none = runInstaller();
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no CNI configuration appeared');
    fs.writeFileSync(path.join(dir, 'net.d', '10-bridge.conf'), JSON.stringify({ cniVersion: '0.4.0', name: 'bridge', type: 'bridge' }));
    const single = runInstaller();
    expect(single.status).toBe(1);
    expect(single.stderr).toContain('10-bridge.conf is a single-plugin .conf');
  });
});
