/**
 * What `ambit install --apply` asks of kubectl: which CRDs the cluster already has (those are
 * skipped, Helm's rule for crds/), then `kubectl apply -f -` with the rendered manifests. kubectl
 * missing, or unable to reach a cluster, is a clear error before anything is applied.
 */
import { spawn } from 'node:child_process';
import { InstallError, InstallErrorCodes } from './errors';

export interface KubectlOptions {
  /** kubectl binary (default: "kubectl" on PATH). */
  readonly kubectl?: string;
  /** --context for kubectl; default: the kubeconfig's current context. */
  readonly context?: string;
  readonly env?: NodeJS.ProcessEnv;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(opts: KubectlOptions, args: string[], input?: string, passOutput?: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<Run> {
  const bin = opts.kubectl ?? 'kubectl';
  const full = opts.context ? ['--context', opts.context, ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, full, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      passOutput?.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      passOutput?.stderr.write(d);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new InstallError(InstallErrorCodes.KUBECTL_MISSING, `kubectl not found (looked for "${bin}" on PATH); install kubectl, or drop --apply and pipe the output to your own tool`));
      } else reject(new InstallError(InstallErrorCodes.CLUSTER, `cannot run ${bin}: ${err.message}`, { cause: err }));
    });
    child.stdin.on('error', () => {
      // kubectl exited before reading everything; its exit status says why.
    });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

const lastLines = (s: string): string =>
  s
    .trim()
    .split('\n')
    .slice(-5)
    .join('\n');

/** Names of the CustomResourceDefinitions the cluster has; fails when kubectl cannot reach it. */
export async function existingCrds(opts: KubectlOptions): Promise<Set<string>> {
  const r = await run(opts, ['get', 'customresourcedefinitions', '-o', 'name', '--request-timeout=20s']);
  if (r.code !== 0) {
    throw new InstallError(
      InstallErrorCodes.CLUSTER,
      `kubectl cannot reach a cluster (kubectl get customresourcedefinitions exited ${r.code}):\n${lastLines(r.stderr)}\n` +
        'check KUBECONFIG and `kubectl config current-context`, or pass --kube-context',
    );
  }
  return new Set(
    r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .map((l) => l.replace(/^customresourcedefinition\.apiextensions\.k8s\.io\//, '')),
  );
}

/** Waits until the API server serves these CRDs, so objects of their kinds can be applied next (Helm does the same). */
export async function waitForCrds(opts: KubectlOptions, names: readonly string[], out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<void> {
  if (names.length === 0) return;
  const r = await run(opts, ['wait', '--for=condition=Established', '--timeout=60s', ...names.map((n) => `customresourcedefinition/${n}`)], undefined, out);
  if (r.code !== 0) throw new InstallError(InstallErrorCodes.CLUSTER, `the CRDs were applied but not established within 60 s (kubectl wait exited ${r.code}); re-run once they are`);
}

/** `kubectl apply -f -`; its output goes to the given streams as it comes. */
export async function apply(opts: KubectlOptions, manifests: string, out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<void> {
  const r = await run(opts, ['apply', '-f', '-'], manifests, out);
  if (r.code !== 0) {
    throw new InstallError(InstallErrorCodes.CLUSTER, `kubectl apply exited ${r.code}; what was applied before the failure stays (re-run after fixing: apply is idempotent)`);
  }
}
