// What the YAML directory asks for, as the last good version of every object. The runtime starts
// the YAML source once with this as its sink; the reconciler and the status overlay (which feeds
// the control plane) both read from here, so the directory is watched once, not once per reader.
import type { KubeObject, ObjectKey, Pod, Service } from '../../control-plane/kube/objects';
import { objectKey } from '../../control-plane/kube/objects';
import type { ConfigProblem, SourceChanges, SourceSink } from '../../control-plane/sources/source';

export interface DesiredListener {
  changed?(changes: SourceChanges): void;
  problems?(list: readonly ConfigProblem[]): void;
}

export class DesiredState implements SourceSink {
  private readonly objects = new Map<ObjectKey, KubeObject>();
  private problemList: readonly ConfigProblem[] = [];
  private readonly listeners = new Set<DesiredListener>();
  private syncedNow = false;
  private readonly syncWaiters: Array<() => void> = [];

  // ---- SourceSink ----

  apply(changes: SourceChanges): void {
    for (const key of changes.remove) this.objects.delete(key);
    for (const o of changes.upsert) this.objects.set(objectKey(o), o);
    for (const l of this.listeners) l.changed?.(changes);
  }

  problems(list: readonly ConfigProblem[]): void {
    this.problemList = list;
    for (const l of this.listeners) l.problems?.(list);
  }

  synced(): void {
    this.syncedNow = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  // ---- readers ----

  get isSynced(): boolean {
    return this.syncedNow;
  }

  /** Resolves once the source has delivered its first complete view. */
  whenSynced(): Promise<void> {
    return this.syncedNow ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  currentProblems(): readonly ConfigProblem[] {
    return this.problemList;
  }

  all(): KubeObject[] {
    return [...this.objects.values()];
  }

  get(key: ObjectKey): KubeObject | undefined {
    return this.objects.get(key);
  }

  pods(): Pod[] {
    return this.all().filter((o): o is Pod => o.kind === 'Pod');
  }

  services(): Service[] {
    return this.all().filter((o): o is Service => o.kind === 'Service');
  }

  /** Labels of namespace `name` ({} when the directory does not define it). */
  namespaceLabels(name: string): Record<string, string> {
    return this.objects.get(`Namespace//${name}`)?.metadata.labels ?? {};
  }

  subscribe(l: DesiredListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
