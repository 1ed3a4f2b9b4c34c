/**
 * The walkthrough's mesh: examples/bookinfo-lite plus the walkthrough's base objects (a steady
 * client, one Service per reviews version) and a waypoint for the namespace, run by the local
 * runtime (`ambit local up`) from a working copy of the YAML. Steps change the mesh the way a user
 * would: by adding files to that directory, which the runtime and the control plane hot-reload.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { projectRoot } from '../../../common/project-root';
import { CleanupStack, execIn } from '../../../common/sandbox';
import type { StatusDoc } from '../../local/runtime-record';
import { readJson, statePaths, type StatePaths } from '../../local/state-dir';
import { teardownRuntime } from '../../local/teardown';
import { localUp } from '../../local/up';
import { waypointYaml } from '../../waypoint/waypoint-manifests';

export const NAMESPACE = 'demo';
export const WAYPOINT = 'waypoint';
const EXAMPLES = path.join(projectRoot(), 'examples');

export type PodView = StatusDoc['pods'][number];

export interface DemoMeshOptions {
  stateDir: string;
  grpcListen: string;
  httpListen: string;
}

export class DemoMesh {
  readonly paths: StatePaths;
  /** The working copy of the YAML the runtime watches. */
  readonly dir: string;
  private readonly cleanup = new CleanupStack();
  private started = false;

  constructor(private readonly opts: DemoMeshOptions) {
    this.paths = statePaths(opts.stateDir);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-demo-'));
  }

  /**
   * Copies bookinfo-lite (YAML + apps) and the walkthrough's base objects, adds the waypoint and
   * labels the namespace to use it (what `kubectl label ns demo istio.io/use-waypoint=waypoint`
   * does). Returns the files written, for the step's report.
   */
  prepare(): string[] {
    const written: string[] = [];
    const copy = (from: string, to: string): void => {
      fs.cpSync(from, path.join(this.dir, to), { recursive: true });
      written.push(to);
    };
    const bookinfo = path.join(EXAMPLES, 'bookinfo-lite');
    for (const f of fs.readdirSync(bookinfo).filter((f) => f.endsWith('.yaml'))) copy(path.join(bookinfo, f), f);
    copy(path.join(bookinfo, 'app'), 'app');
    const base = path.join(EXAMPLES, 'walkthrough', 'base');
    for (const f of fs.readdirSync(base).filter((f) => f.endsWith('.yaml'))) copy(path.join(base, f), f);

    fs.writeFileSync(path.join(this.dir, 'waypoint.yaml'), waypointYaml({ name: WAYPOINT, namespace: NAMESPACE, node: 'node2' }));
    written.push('waypoint.yaml');
    const nsFile = path.join(this.dir, 'namespace.yaml');
    const doc = YAML.parseDocument(fs.readFileSync(nsFile, 'utf8'));
    doc.setIn(['metadata', 'labels', 'istio.io/use-waypoint'], WAYPOINT);
    fs.writeFileSync(nsFile, doc.toString());
    return written;
  }

  /** `ambit local up` on the working copy (its own output is the progress of this step). */
  async up(waitSeconds: number): Promise<void> {
    this.started = true;
    const code = await localUp({
      file: this.dir,
      stateDir: this.opts.stateDir,
      foreground: false,
      wait: waitSeconds,
      grpcListen: this.opts.grpcListen,
      httpListen: this.opts.httpListen,
    });
    if (code !== 0) throw new Error(`ambit local up exited ${code} (see above)`);
  }

  status(): StatusDoc {
    const doc = readJson<StatusDoc>(this.paths.status, 1);
    if (doc === undefined) throw new Error(`no status in ${this.paths.status}: the runtime is not running`);
    return doc;
  }

  pod(name: string): PodView {
    const p = this.status().pods.find((x) => x.name === name && x.namespace === NAMESPACE);
    if (p === undefined) throw new Error(`no pod ${NAMESPACE}/${name} in the runtime's status`);
    return p;
  }

  /** http://<address> of the control plane's status server (dashboard, /metrics). */
  controlPlaneUrl(): string | undefined {
    const cp = readJson<StatusDoc>(this.paths.status, 1)?.controlPlane;
    if (cp === undefined) return undefined;
    return cp.state === 'running' ? cp.httpAddress : undefined;
  }

  /** Adds (or replaces) a file of the directory; `as` names it in the directory. */
  applyStep(file: string, as = file): void {
    fs.copyFileSync(path.join(EXAMPLES, 'walkthrough', 'steps', file), path.join(this.dir, as));
  }

  /** Runs a Node script inside a pod's netns and cgroup: captured, with the pod's identity. */
  async script<T>(pod: string, script: string, args: string[], timeoutMs = 120_000): Promise<T> {
    const p = this.pod(pod);
    if (p.netns === undefined || p.cgroupPath === undefined) throw new Error(`pod ${pod} has no netns yet`);
    const r = await execIn({ netnsPath: `/run/netns/${p.netns}`, cgroupPath: p.cgroupPath }, this.cleanup, process.execPath, ['-e', script, ...args], {
      timeoutMs,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (!line.startsWith('{')) throw new Error(`the script in pod ${pod} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 400)}`);
    return JSON.parse(line) as T;
  }

  /** JSON lines of a container's log (the runtime writes <ns>_<pod>_<container>.log). */
  containerLog(pod: string, container: string): Array<Record<string, unknown>> {
    const file = path.join(this.paths.logs, `${NAMESPACE}_${pod}_${container}.log`);
    if (!fs.existsSync(file)) return [];
    const out: Array<Record<string, unknown>> = [];
    for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!l.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        // a line being written
      }
    }
    return out;
  }

  /** Stops everything this mesh started and removes the working copy; safe to call twice. */
  async down(print: (line: string) => void): Promise<void> {
    await this.cleanup.runAll().catch(() => {});
    if (this.started) {
      this.started = false;
      await teardownRuntime(this.paths, { print });
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
