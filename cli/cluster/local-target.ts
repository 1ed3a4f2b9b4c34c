// The running local runtime as a cluster. Its API is its watched YAML directory: a label is an
// edit of the file that defines the Namespace, a waypoint is a file of its own, and the runtime
// (which watches the directory) picks both up by itself. What runs is read from status.json, the
// file the runtime rewrites at every change (`ambit local status` reads the same).
import fs from 'node:fs';
import path from 'node:path';
import { isRunning } from '../../common/sandbox';
import { RECORD_VERSION, type RuntimeRecord, type StatusDoc } from '../local/runtime-record';
import { readJson, type StatePaths } from '../local/state-dir';
import { waypointYaml } from '../waypoint/waypoint-manifests';
import { definitionsOf, namespaceOfObject, readDirectoryObjects, where, type DirectoryObjects } from './directory-objects';
import { writeDirectoryFile } from './dir-write';
import { CliError, CliErrorCodes } from './errors';
import type { ClusterTarget, ClusterView, LabelChanges, NamespaceView, WaypointSpec } from './target';
import { requireNamespace } from './target';
import { editNamespaceLabels, namespaceYaml } from './yaml-edit';

export const namespaceFileName = (ns: string): string => `ambit-ns-${ns}.yaml`;
export const waypointFileName = (ns: string, name: string): string => `ambit-waypoint-${ns}-${name}.yaml`;

/** What status.json says about a pod that is not fine: probe results, waiting reasons, restarts, failures. */
function podDetail(p: StatusDoc['pods'][number]): string | undefined {
  const why = p.containers.flatMap((c) => (c.probe && !c.ready ? [`readiness ${c.probe}`] : c.state.kind === 'waiting' ? [c.state.reason] : []));
  if (p.message) why.push(p.message);
  if (p.restarts > 0) why.push(`${p.restarts} restarts`);
  return why.length > 0 ? why.join(', ') : undefined;
}

export class LocalTarget implements ClusterTarget {
  readonly kind = 'local' as const;

  constructor(
    readonly paths: StatePaths,
    readonly record: RuntimeRecord,
  ) {}

  get dir(): string {
    return this.record.dir;
  }

  get description(): string {
    return `local runtime (pid ${this.record.runtime.pid}, directory ${this.dir})`;
  }

  /** The runtime's network namespace: its agents and control plane listen on loopback there. */
  get runtimeNetns(): string {
    return `/proc/${this.record.runtime.pid}/ns/net`;
  }

  running(): boolean {
    return isRunning(this.record.runtime);
  }

  /** status.json as of now; RUNTIME_STOPPED when the runtime is gone. */
  status(): StatusDoc {
    const doc = readJson<StatusDoc>(this.paths.status, RECORD_VERSION);
    if (!this.running()) {
      throw new CliError(CliErrorCodes.RUNTIME_STOPPED, `the local runtime (pid ${this.record.runtime.pid}) is not running any more; see ${this.paths.runtimeLog}`);
    }
    if (doc === undefined) {
      throw new CliError(CliErrorCodes.NO_TARGET, `the local runtime (pid ${this.record.runtime.pid}) is still starting (no status yet); run this again in a moment`);
    }
    return doc;
  }

  objects(): Promise<DirectoryObjects> {
    return readDirectoryObjects(this.dir);
  }

  async view(): Promise<ClusterView> {
    const [d, status] = [await this.objects(), this.status()];
    const labelsOf = (kind: string, ns: string, name: string): Record<string, string> =>
      d.objects.find((o) => o.object.kind === kind && namespaceOfObject(o.object) === ns && o.object.metadata.name === name)?.object.metadata.labels ?? {};
    const namespaces = new Map<string, NamespaceView>();
    for (const o of d.objects) {
      if (o.object.kind === 'Namespace' && !namespaces.has(o.object.metadata.name)) {
        namespaces.set(o.object.metadata.name, { name: o.object.metadata.name, labels: o.object.metadata.labels ?? {}, hasObject: true });
      }
    }
    // As with Kubernetes' implicit namespaces here: a namespace exists once something lives in it.
    for (const o of d.objects) {
      const ns = o.object.kind === 'Namespace' ? undefined : namespaceOfObject(o.object);
      if (ns !== undefined && !namespaces.has(ns)) namespaces.set(ns, { name: ns, labels: {}, hasObject: false });
    }
    return {
      namespaces: [...namespaces.values()].sort((a, b) => a.name.localeCompare(b.name)),
      pods: status.pods.map((p) => ({
        namespace: p.namespace,
        name: p.name,
        labels: labelsOf('Pod', p.namespace, p.name),
        node: p.node,
        ips: p.podIPs,
        phase: p.phase,
        ready: p.ready,
        enrolled: p.enrolled,
        ...(p.netns ? { netns: p.netns } : {}),
        ...(podDetail(p) ? { detail: podDetail(p) } : {}),
      })),
      services: status.services.map((s) => ({ namespace: s.namespace, name: s.name, labels: labelsOf('Service', s.namespace, s.name), clusterIP: s.clusterIP })),
      gateways: d.objects
        .filter((o) => o.object.kind === 'Gateway')
        .map((o) => ({
          namespace: namespaceOfObject(o.object),
          name: o.object.metadata.name,
          className: (o.object.spec as { gatewayClassName?: string } | undefined)?.gatewayClassName ?? '',
          labels: o.object.metadata.labels ?? {},
          file: o.file,
        })),
    };
  }

  async setNamespaceLabels(namespace: string, changes: LabelChanges): Promise<string> {
    const d = await this.objects();
    const defs = definitionsOf(d, 'Namespace', undefined, namespace);
    if (defs.length === 0) {
      // A broken file may be where it is defined: writing a second definition would clash later.
      if (d.unparsable.length > 0) {
        throw new CliError(CliErrorCodes.DIRECTORY_INVALID, `${d.unparsable.join('; ')}; fix it first (namespace ${namespace} may be defined there)`);
      }
      return this.writeNamespaceFile(namespace, changes);
    }
    const edited: string[] = [];
    for (const file of [...new Set(defs.map((o) => o.file))]) {
      const abs = path.join(this.dir, file);
      const text = fs.readFileSync(abs, 'utf8');
      let next: string | undefined;
      try {
        next = editNamespaceLabels(text, namespace, changes);
      } catch (e) {
        throw new CliError(CliErrorCodes.DIRECTORY_INVALID, `${file}: ${(e as Error).message}; fix it first`);
      }
      if (next !== undefined && next !== text) {
        writeDirectoryFile(abs, next);
        edited.push(file);
      }
    }
    return edited.length > 0 ? `edited ${edited.join(', ')}` : `already so in ${defs.map(where).join(', ')}`;
  }

  /** The namespace exists only implicitly: give it a Namespace object of its own. */
  private async writeNamespaceFile(namespace: string, changes: LabelChanges): Promise<string> {
    requireNamespace(await this.view(), namespace, this.dir);
    const labels = Object.fromEntries(Object.entries(changes).filter((e): e is [string, string] => e[1] !== null));
    if (Object.keys(labels).length === 0) return `namespace ${namespace} has no labels; nothing to change`;
    const file = namespaceFileName(namespace);
    const abs = path.join(this.dir, file);
    if (fs.existsSync(abs)) {
      throw new CliError(CliErrorCodes.DIRECTORY_INVALID, `${abs} exists but does not define Namespace ${namespace}; move it away and run again`);
    }
    writeDirectoryFile(abs, namespaceYaml(namespace, labels, `Namespace ${namespace}, written by \`ambit label\` (the directory had no Namespace object for it).`));
    return `wrote ${file}`;
  }

  async createWaypoint(spec: WaypointSpec): Promise<string> {
    const d = await this.objects();
    const ns = spec.namespace;
    requireNamespace(await this.view(), ns, this.dir);
    const clash = [
      ...definitionsOf(d, 'Gateway', ns, spec.name).map((o) => `Gateway ${ns}/${spec.name} (${where(o)})`),
      ...definitionsOf(d, 'Service', ns, spec.name).map((o) => `Service ${ns}/${spec.name} (${where(o)})`),
      ...definitionsOf(d, 'Pod', ns, `${spec.name}-0`).map((o) => `Pod ${ns}/${spec.name}-0 (${where(o)})`),
    ];
    const file = waypointFileName(ns, spec.name);
    const abs = path.join(this.dir, file);
    if (clash.length === 0 && fs.existsSync(abs)) clash.push(`the file ${file}`);
    if (clash.length > 0) {
      throw new CliError(CliErrorCodes.WAYPOINT_EXISTS, `waypoint ${ns}/${spec.name} would clash with ${clash.join(', ')}; pick another --name, or delete it first with \`ambit waypoint delete ${spec.name} -n ${ns}\``);
    }
    const header = `# Waypoint ${ns}/${spec.name}, written by \`ambit waypoint apply\` (as a waypoint controller would create it);\n# \`ambit waypoint delete ${spec.name} -n ${ns}\` removes it.\n`;
    writeDirectoryFile(abs, header + waypointYaml(spec));
    return `wrote ${file} (Gateway, Service ${spec.name}, Pod ${spec.name}-0)`;
  }

  /** The file `waypoint apply` wrote for this waypoint; NOT_FOUND / NOT_OURS when there is none to delete. */
  async waypointFile(namespace: string, name: string): Promise<string> {
    const defs = definitionsOf(await this.objects(), 'Gateway', namespace, name);
    if (defs.length === 0) {
      throw new CliError(CliErrorCodes.WAYPOINT_NOT_FOUND, `there is no waypoint ${namespace}/${name} in ${this.dir}; \`ambit waypoint list\` shows the ones there are`);
    }
    const file = waypointFileName(namespace, name);
    const foreign = defs.filter((o) => o.file !== file);
    if (foreign.length > 0) {
      throw new CliError(
        CliErrorCodes.WAYPOINT_NOT_OURS,
        `waypoint ${namespace}/${name} is defined in ${foreign.map(where).join(', ')}, not by \`ambit waypoint apply\`; remove it from that file yourself`,
      );
    }
    return file;
  }

  async deleteWaypoint(namespace: string, name: string): Promise<string> {
    const file = await this.waypointFile(namespace, name);
    fs.rmSync(path.join(this.dir, file));
    return `removed ${file}`;
  }
}
