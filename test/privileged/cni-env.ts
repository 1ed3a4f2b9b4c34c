/**
 * The world of cni-plugin.test.ts: a one-node test mesh, a control plane in this process that
 * lists the node's pods (as the API server would, with their IPs), a real ambit-agent in the
 * node's network namespace (as the DaemonSet runs it: pinned capture, the CNI record directory),
 * and the built plugin binary run exactly as a container runtime runs a CNI plugin: environment
 * variables plus the network configuration on stdin.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../common/log';
import { createLogger } from '../../common/log';
import { BootstrapTokenAuthenticator } from '../../control-plane/auth/bootstrap-token-authenticator';
import { startControlPlane, type ControlPlane } from '../../control-plane/control-plane';
import type { KubeObject } from '../../control-plane/kube/objects';
import { StaticSource } from '../../control-plane/sources/static-source';
import { TS_REGISTER, type Mesh, type MeshNode, type Pod } from '../harness';

export const ROOT = path.resolve(__dirname, '..', '..');
export const PLUGIN = path.join(ROOT, 'build', 'Release', 'ambit-cni');
const AGENT_MAIN = path.join(ROOT, 'agent', 'main.ts');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the runtime knows of a pod sandbox: the Kubernetes pod and its sandbox in the mesh. */
export interface PodSandbox {
  ns: string;
  name: string;
  uid: string;
  containerId: string;
  pod: Pod;
}

const namespace = (name: string, ambient: boolean): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, ...(ambient ? { labels: { 'istio.io/dataplane-mode': 'ambient' } } : {}) },
});

/** The Pod as the API server shows it once the pod runs on `node` (IPs included). */
export function podObject(s: PodSandbox, node: string, serviceAccount: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: s.name, namespace: s.ns, uid: s.uid, labels: { app: s.name } },
    spec: { nodeName: node, serviceAccountName: serviceAccount, containers: [{ name: 'main', image: 'app' }] },
    status: {
      phase: 'Running',
      podIP: s.pod.ipv4,
      podIPs: [{ ip: s.pod.ipv4 }, { ip: s.pod.ipv6 }],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  } as KubeObject;
}

export class CniWorld {
  readonly dir: string;
  readonly socketPath: string;
  readonly recordDir: string;
  readonly logger: Logger;
  private constructor(
    readonly mesh: Mesh,
    readonly node: MeshNode,
    readonly cp: ControlPlane,
    readonly source: StaticSource,
    readonly tokenFile: string,
    dir: string,
  ) {
    this.dir = dir;
    this.socketPath = path.join(dir, 'run', 'enrollment.sock');
    this.recordDir = path.join(dir, 'run', 'cni-pods');
    this.logger = createLogger('cni-test', { level: 'warn' });
  }

  static async create(mesh: Mesh, dir: string): Promise<CniWorld> {
    const node = mesh.nodes[0];
    const source = new StaticSource('cni-test', [namespace('mesh', true), namespace('plain', false)]);
    const cpDir = path.join(dir, 'control-plane');
    const authenticator = new BootstrapTokenAuthenticator(cpDir);
    const cp = await startControlPlane({
      sources: [source],
      stateDir: cpDir,
      nodeAuthenticator: authenticator,
      grpcListen: '127.0.0.1:0',
      // The agent runs in the node's netns: it reaches the control plane through a socket file.
      grpcExtraListen: [`unix:${path.join(dir, 'cp.sock')}`],
      httpListen: '127.0.0.1:0',
      debounceMs: 10,
      logger: createLogger('control-plane', { level: 'warn' }),
    });
    const tokenFile = authenticator.issueNodeToken(node.name).tokenFile;
    return new CniWorld(mesh, node, cp, source, tokenFile, dir);
  }

  /** A pod sandbox on the node (its netns and cgroup), not yet known to anyone. */
  async sandbox(ns: string, name: string, uid: string, sandboxName = name): Promise<PodSandbox> {
    const pod = await this.node.addPod(sandboxName);
    return { ns, name, uid, containerId: `sandbox-${sandboxName}-${uid.slice(0, 8)}`, pod };
  }

  /** The control plane lists the pod (the API server would, once it is scheduled and has IPs). */
  publish(s: PodSandbox, serviceAccount: string): void {
    this.source.update([podObject(s, this.node.name, serviceAccount)]);
  }

  async close(): Promise<void> {
    await this.cp.close();
  }
}

/** A real agent process in the node's netns (killed by mesh.destroy() at the latest). */
export class AgentRun {
  readonly lines: string[] = [];
  private exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8').on('data', (d: string) => {
        const parts = (partial + d).split('\n');
        partial = parts.pop() as string;
        this.lines.push(...parts.filter((l) => l !== ''));
      });
    }
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Starts the agent; resolves once it takes pods (its enrollment socket listens). */
  static async start(world: CniWorld): Promise<AgentRun> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      AMBIT_NODE_NAME: world.node.name,
      AMBIT_CONTROL_PLANE: `unix:${path.join(world.dir, 'cp.sock')}`,
      AMBIT_NODE_TOKEN_FILE: world.tokenFile,
      AMBIT_CGROUP_ROOT: world.node.cgroupPath,
      AMBIT_PIN_DIR: path.join(world.mesh.pinDir, world.node.name),
      AMBIT_ENROLLMENT_SOCKET: world.socketPath,
      AMBIT_CNI_RECORD_DIR: world.recordDir,
      AMBIT_AGENT_STATE_DIR: path.join(world.dir, 'agent'),
      AMBIT_DNS_UPSTREAM: 'none',
      AMBIT_DRAIN_TIMEOUT_MS: '1000',
      AMBIT_LOG_LEVEL: 'info',
    };
    const child = world.node.spawn(process.execPath, ['-r', TS_REGISTER, AGENT_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const run = new AgentRun(child);
    const deadline = Date.now() + 60_000;
    while (run.logs('"agent started"').length === 0) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        await run.stop();
        throw new Error(`the agent did not start (exit ${child.exitCode ?? child.signalCode}):\n${run.lines.slice(-20).join('\n')}`);
      }
      await sleep(50);
    }
    return run;
  }

  /** The agent's JSON log lines whose msg contains `msg`. */
  logs(msg: string): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.lines) {
      if (!line.startsWith('{') || !line.includes(msg)) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line cut by the pipe
      }
    }
    return out;
  }

  /** SIGTERM (the agent drains, keeps pinned capture), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** GET on the agent's admin (15000) or readiness (15021) port, from inside the node's netns. */
export async function agentAdmin(node: MeshNode, urlPath: string, port = 15000): Promise<{ status: number; body: string }> {
  const r = await node.exec('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', `http://127.0.0.1:${port}${urlPath}`], { timeoutMs: 10_000 });
  const nl = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(nl + 1)), body: r.stdout.slice(0, nl) };
}

export interface ConfigDumpPod {
  uid: string;
  name: string;
  ips: string[];
  identity: string;
  serving: boolean;
}

export async function enrolledPods(node: MeshNode): Promise<ConfigDumpPod[]> {
  const r = await agentAdmin(node, '/config_dump');
  if (r.status !== 200) throw new Error(`config_dump answered ${r.status}`);
  return (JSON.parse(r.body) as { pods: ConfigDumpPod[] }).pods;
}

/** TCP ports listening inside the pod's netns. */
export async function listeningPorts(pod: Pod): Promise<number[]> {
  const r = await pod.exec('ss', ['-Hltn'], { timeoutMs: 10_000 });
  // LISTEN 0 511 127.0.0.1:15001 0.0.0.0:*  (the fourth column is the local address)
  const ports = r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[3] ?? '')
    .map((local) => Number(local.slice(local.lastIndexOf(':') + 1)));
  return [...new Set(ports.filter((p) => Number.isInteger(p) && p > 0))].sort((a, b) => a - b);
}

/** The CNI prevResult the main plugin would have returned for this sandbox. */
export function prevResult(s: PodSandbox, cniVersion = '1.0.0'): Record<string, unknown> {
  return {
    cniVersion,
    interfaces: [{ name: 'eth0', mac: '02:42:c6:12:01:0a', sandbox: s.pod.netnsPath }],
    ips: [
      { address: `${s.pod.ipv4}/24`, gateway: s.pod.node.gatewayV4, interface: 0 },
      { address: `${s.pod.ipv6}/64`, gateway: s.pod.node.gatewayV6, interface: 0 },
    ],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: {},
  };
}

export interface PluginRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** stdout parsed, when it is JSON. */
  json: Record<string, unknown> | undefined;
}

/**
 * Runs the plugin as a container runtime does: CNI_* in the environment, the network config on
 * stdin, the result on stdout. Killed after `timeoutMs`.
 */
export function runPlugin(command: string, s: PodSandbox | undefined, conf: Record<string, unknown>, timeoutMs = 40_000): Promise<PluginRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    CNI_COMMAND: command,
    CNI_PATH: '/opt/cni/bin',
  };
  if (s) {
    env.CNI_CONTAINERID = s.containerId;
    env.CNI_NETNS = s.pod.netnsPath;
    env.CNI_IFNAME = 'eth0';
    env.CNI_ARGS = `IgnoreUnknown=1;K8S_POD_NAMESPACE=${s.ns};K8S_POD_NAME=${s.name};K8S_POD_INFRA_CONTAINER_ID=${s.containerId};K8S_POD_UID=${s.uid}`;
  }
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(PLUGIN, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, ms: Date.now() - started, json });
    });
    // A plugin may exit without reading all of stdin (a runtime ignores that EPIPE too).
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(conf));
  });
}

/** A temporary directory for sockets, records and state. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-cni-'));
  fs.chmodSync(dir, 0o755);
  return dir;
}
