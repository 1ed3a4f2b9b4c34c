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
  private invalid: ConfigProblem[] = [];

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
    sink.problems(this.invalid);
    sink.synced();
  }

  async stop(): Promise<void> {
    this.sink = undefined;
  }

  /** Adds or replaces objects and removes keys; delivered at once when started. */
  update(upsert: readonly KubeObject[], remove: readonly ObjectKey[] = []): void {
    const valid = this.accept(upsert);
    for (const key of remove) this.objects.delete(key);
    this.sink?.apply({ upsert: valid, remove });
    this.sink?.problems(this.invalid);
  }

  private accept(objects: readonly KubeObject[]): KubeObject[] {
    const valid: KubeObject[] = [];
    this.invalid = [];
    for (const o of objects) {
      const issues = validateObject(o);
      if (issues.length > 0) {
        for (const issue of issues) {
          this.invalid.push({ severity: 'error', source: this.name, kind: o.kind, namespace: o.metadata?.namespace, name: o.metadata?.name, field: issue.path, message: formatIssue(issue) });
        }
        continue;
      }
      this.objects.set(objectKey(o), o);
      valid.push(o);
    }
    return valid;
  }
}
