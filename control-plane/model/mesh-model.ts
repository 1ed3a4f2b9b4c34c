/**
 * The control plane's model: raw objects from every source (KubeStore), translated into the
 * resources the data plane is served (ResourceTable), with lookups (ModelIndexes) and the list of
 * configuration problems (from sources and from translation).
 *
 * Sources write through sinkFor(); each apply() re-translates what the change affects, at once, so
 * the table (and the push engine behind it) sees one batch per source change.
 */
import type { Logger } from '../../common/log';
import { silentLogger } from '../../common/log';
import { KubeObject, ObjectKey, objectKey, parseObjectKey, Pod } from '../kube/objects';
import type { ConfigProblem, SourceChanges, SourceSink } from '../sources/source';
import { DEFAULT_MESH_CONFIG, MeshConfig, TranslateContext } from '../translate/context';
import { isPodTerminal, serviceAccountOf } from '../translate/workload';
import { ChangedObject, changeImpact } from './change-impact';
import { ModelIndexes } from './indexes';
import { KubeStore } from './kube-store';
import type { IdentityDirectory } from './resource-store';
import { ResourceTable, ResourceWrite } from './resource-table';
import { TRANSLATED_KINDS, writeFor } from './translator';

export interface MeshModelOptions {
  mesh?: Partial<MeshConfig>;
  logger?: Logger;
}

export class MeshModel implements IdentityDirectory {
  readonly mesh: MeshConfig;
  readonly kube = new KubeStore();
  readonly resources = new ResourceTable();
  readonly indexes = new ModelIndexes(this.resources);
  private readonly ctx: TranslateContext;
  private readonly log: Logger;
  private readonly sourceProblems = new Map<string, readonly ConfigProblem[]>();
  private readonly objectProblems = new Map<ObjectKey, ConfigProblem[]>();
  private readonly sources = new Set<string>();
  private readonly syncedSources = new Set<string>();
  private readonly problemListeners = new Set<() => void>();
  /** node -> "<ns>/<sa>" -> number of pods: the CA's question, answered without a scan. */
  private readonly identitiesByNode = new Map<string, Map<string, number>>();

  constructor(opts: MeshModelOptions = {}) {
    this.mesh = Object.freeze({ ...DEFAULT_MESH_CONFIG, ...opts.mesh });
    this.ctx = { mesh: this.mesh, kube: this.kube };
    this.log = (opts.logger ?? silentLogger).child({ component: 'model' });
  }

  /** The sink a source writes to. Each source gets one; names must be unique. */
  sinkFor(sourceName: string): SourceSink {
    if (this.sources.has(sourceName)) throw new Error(`a source named ${sourceName} is already registered`);
    this.sources.add(sourceName);
    return {
      apply: (changes) => this.apply(sourceName, changes),
      problems: (list) => {
        this.sourceProblems.set(sourceName, list);
        this.notifyProblems();
      },
      synced: () => {
        this.syncedSources.add(sourceName);
        this.log.info({ source: sourceName, objects: this.kube.keysOf(sourceName).length }, 'source synced');
      },
    };
  }

  /** True once every registered source has delivered its first complete view. */
  get synced(): boolean {
    return this.sources.size > 0 && this.syncedSources.size === this.sources.size;
  }

  /** Every current problem: source errors first, then translation warnings, each sorted. */
  problems(): ConfigProblem[] {
    const fromSources = [...this.sourceProblems.values()].flat();
    const fromObjects = [...this.objectProblems.values()].flat();
    return [...fromSources, ...fromObjects];
  }

  onProblemsChanged(listener: () => void): () => void {
    this.problemListeners.add(listener);
    return () => this.problemListeners.delete(listener);
  }

  hasIdentityOnNode(node: string, namespace: string, serviceAccount: string): boolean {
    return (this.identitiesByNode.get(node)?.get(`${namespace}/${serviceAccount}`) ?? 0) > 0;
  }

  /** Re-translates everything (e.g. after a mesh-wide setting changed). */
  retranslateAll(): void {
    this.translate({ full: true });
  }

  private apply(source: string, changes: SourceChanges): void {
    const changed: ChangedObject[] = [];
    for (const key of changes.remove) {
      this.setObjectProblems(`${source}|${key}`, []);
      const previous = this.kube.remove(source, key);
      if (previous === undefined) continue;
      this.trackIdentity(previous, -1);
      changed.push({ key, previous, current: undefined });
    }
    for (const object of changes.upsert) {
      const key = objectKey(object);
      const { previous, conflict } = this.kube.upsert(source, object);
      if (conflict !== undefined) {
        this.setObjectProblems(`${source}|${key}`, [
          this.problem(object, 'error', `also defined by source ${conflict}, which keeps it; remove one of the two definitions`, source),
        ]);
        continue;
      }
      if (previous !== undefined) this.trackIdentity(previous, -1);
      this.trackIdentity(object, +1);
      changed.push({ key, previous, current: object });
    }
    if (changed.length === 0) return;
    const started = process.hrtime.bigint();
    const impact = changeImpact(this.kube, this.mesh, changed);
    const delta = this.translate(impact);
    this.log.debug(
      { source, changed: changed.length, full: impact.full, upserted: delta?.upserted.length ?? 0, removed: delta?.removed.length ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6 },
      'translated',
    );
  }

  private translate(impact: ReturnType<typeof changeImpact>): ReturnType<ResourceTable['apply']> {
    const writes: ResourceWrite[] = [];
    const keys = impact.full ? this.allTranslatedKeys() : impact.keys;
    const produced = new Set<string>();
    for (const key of keys) {
      const current = this.kube.get(key);
      const problems: ConfigProblem[] = [];
      const write = writeFor(this.ctx, key, current, (message, field) => {
        if (current !== undefined) problems.push({ ...this.problem(current, 'warning', message, this.kube.ownerOf(key) ?? ''), field });
      });
      this.setObjectProblems(key, problems);
      if (write === undefined) continue;
      writes.push(write);
      produced.add(`${write.type}:${write.name}`);
    }
    if (impact.full) {
      // Whatever the table holds that no object produced any more goes away.
      for (const r of this.resources.all()) if (!produced.has(r.id)) writes.push({ type: r.type, name: r.name, resource: undefined });
    }
    const delta = this.resources.apply(writes);
    this.notifyProblems();
    return delta;
  }

  private allTranslatedKeys(): ObjectKey[] {
    const keys: ObjectKey[] = [];
    for (const kind of TRANSLATED_KINDS) for (const o of this.kube.list(kind)) keys.push(objectKey(o));
    // Objects that are gone still need their resource removed: a full pass handles that above.
    return keys;
  }

  private trackIdentity(o: KubeObject, delta: 1 | -1): void {
    if (o.kind !== 'Pod') return;
    const pod = o as Pod;
    const node = pod.spec?.nodeName;
    if (node === undefined || node === '' || isPodTerminal(pod)) return;
    let ids = this.identitiesByNode.get(node);
    if (ids === undefined) this.identitiesByNode.set(node, (ids = new Map()));
    const id = `${pod.metadata.namespace ?? 'default'}/${serviceAccountOf(pod)}`;
    const n = (ids.get(id) ?? 0) + delta;
    if (n > 0) ids.set(id, n);
    else ids.delete(id);
  }

  private problem(o: KubeObject, severity: ConfigProblem['severity'], message: string, source: string): ConfigProblem {
    return { severity, source, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name, message };
  }

  private setObjectProblems(key: string, problems: ConfigProblem[]): void {
    const had = this.objectProblems.get(key);
    if (problems.length === 0) {
      if (had !== undefined) this.objectProblems.delete(key);
      return;
    }
    const { kind, namespace, name } = parseObjectKey(key.includes('|') ? key.split('|')[1] : key);
    for (const p of problems) {
      if (!had?.some((h) => h.message === p.message)) this.log.warn({ kind, namespace, name, field: p.field }, p.message);
    }
    this.objectProblems.set(key, problems);
  }

  private notifyProblems(): void {
    for (const l of this.problemListeners) l();
  }
}
