/**
 * A source over objects held in memory: for embedding the control plane in another program (the
 * local runtime's overlays, benchmarks) where the objects already exist as values. Objects are
 * validated like the YAML source's; an invalid one is reported and not delivered.
 */
import { KubeObject, ObjectKey, objectKey } from '../kube/objects';
import { formatIssue, validateObject } from '../validation/validate-object';
import type { ConfigProblem, ConfigSource, SourceSink } from './source';

export class StaticSource implements ConfigSource {
  private sink: SourceSink | undefined;
  private readonly objects = new Map<ObjectKey, KubeObject>();
  /** Problems of objects not delivered, by key; cleared when that key is accepted or removed. */
  private readonly invalid = new Map<ObjectKey, ConfigProblem[]>();

  constructor(
    readonly name: string,
    initial: readonly KubeObject[] = [],
  ) {
    this.accept(initial);
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.sink !== undefined) throw new Error(`source ${this.name} is already started`);
    this.sink = sink;
    sink.apply({ upsert: [...this.objects.values()], remove: [] });
    sink.problems(this.problems());
    sink.synced();
  }

  async stop(): Promise<void> {
    this.sink = undefined;
  }

  /**
   * Removes keys, then adds or replaces objects (the order the model applies them in); delivered at
   * once when started.
   */
  update(upsert: readonly KubeObject[], remove: readonly ObjectKey[] = []): void {
    for (const key of remove) {
      this.objects.delete(key);
      this.invalid.delete(key);
    }
    const valid = this.accept(upsert);
    this.sink?.apply({ upsert: valid, remove });
    this.sink?.problems(this.problems());
  }

  private problems(): ConfigProblem[] {
    return [...this.invalid.values()].flat();
  }

  private accept(objects: readonly KubeObject[]): KubeObject[] {
    const valid: KubeObject[] = [];
    for (const [i, o] of objects.entries()) {
      // An object without metadata has no key yet: its problem is kept under its position.
      const key = o?.metadata?.name !== undefined ? objectKey(o) : `(unnamed #${i})`;
      const issues = validateObject(o);
      if (issues.length > 0) {
        this.invalid.set(
          key,
          issues.map((issue) => ({ severity: 'error', source: this.name, kind: o.kind, namespace: o.metadata?.namespace, name: o.metadata?.name, field: issue.path, message: formatIssue(issue) })),
        );
        continue;
      }
      this.invalid.delete(key);
      this.objects.set(key, o);
      valid.push(o);
    }
    return valid;
  }
}
