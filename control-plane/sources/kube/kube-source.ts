/**
 * A ConfigSource over the Kubernetes API, behind the same interface as the YAML directory: the
 * shared informers' caches, converted and validated object by object (object-conversion.ts),
 * delivered as upserts and removals in batches. Changes are coalesced per object and flushed on
 * the next turn of the event loop, so a re-list after a 410 (thousands of objects) reaches the
 * model as one batch. An invalid object keeps its last good version in service, as in YAML.
 *
 * Resync: every resyncMs the source compares what it delivered (by resourceVersion) with the
 * informers' caches and repairs any difference, so a change lost to a bug cannot stay lost.
 */
import type { Logger } from '../../../common/log';
import { silentLogger } from '../../../common/log';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../../errors';
import { objectKey, type KubeObject, type ObjectKey } from '../../kube/objects';
import type { ConfigProblem, ConfigSource, SourceSink } from '../source';
import { ProblemLog } from '../yaml/problem-log';
import type { KubeInformers } from './kube-informers';
import { convertObject } from './object-conversion';
import type { WatchedResource } from './watched-resources';

export interface KubeSourceOptions {
  informers: KubeInformers;
  logger?: Logger;
  /** How long start() waits for the first complete list of every resource (default 60 s). */
  syncTimeoutMs?: number;
  /** How often delivered objects are checked against the caches (default 5 min; 0 = never). */
  resyncMs?: number;
}

interface Pending {
  resource: WatchedResource;
  namespace?: string;
  name: string;
}

interface Delivered {
  resourceVersion?: string;
  fingerprint: string;
}

export class KubeSource implements ConfigSource {
  readonly name: string;
  readonly informers: KubeInformers;
  private readonly log: Logger;
  private readonly problemLog: ProblemLog;
  private readonly syncTimeoutMs: number;
  private readonly resyncMs: number;
  private sink?: SourceSink;
  private readonly dirty = new Map<ObjectKey, Pending>();
  private readonly delivered = new Map<ObjectKey, Delivered>();
  /** Problems of objects that failed validation, by key (their last good version is still served). */
  private readonly invalid = new Map<ObjectKey, ConfigProblem[]>();
  private flushScheduled?: NodeJS.Immediate;
  private resyncTimer?: NodeJS.Timeout;
  private unsubscribe: Array<() => void> = [];
  private live = false;

  constructor(opts: KubeSourceOptions) {
    this.informers = opts.informers;
    this.name = `kube:${opts.informers.server}`;
    this.log = (opts.logger ?? silentLogger).child({ component: 'kube-source', server: opts.informers.server });
    this.problemLog = new ProblemLog(this.log);
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 60_000;
    this.resyncMs = opts.resyncMs ?? 300_000;
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.sink !== undefined) throw new Error(`${this.name} was already started`);
    this.sink = sink;
    this.unsubscribe = [
      this.informers.onChange((resource, _type, o) => this.markDirty(resource, o.metadata?.namespace, o.metadata?.name ?? '')),
      this.informers.onState(() => this.live && this.publishProblems()),
    ];
    this.informers.start();
    try {
      await this.informers.whenSynced(this.syncTimeoutMs);
    } catch (e) {
      await this.stop();
      throw e instanceof ControlPlaneError
        ? new ControlPlaneError(e.code, `${e.message}; check --kubeconfig, that the API server is reachable, and the RBAC in docs/kubernetes.md`, { cause: e })
        : e;
    }
    if (this.sink === undefined) return; // stopped while syncing
    // Every cached object, not just the ones that produced events: the first view is complete.
    for (const informer of this.informers.all) {
      for (const o of informer.list()) this.markDirty(informer.resource, o.metadata?.namespace, o.metadata?.name ?? '');
    }
    this.live = true;
    this.flush(true);
    sink.synced();
    if (this.resyncMs > 0) this.resyncTimer = setInterval(() => this.resync(), this.resyncMs);
  }

  async stop(): Promise<void> {
    this.live = false;
    this.sink = undefined;
    clearInterval(this.resyncTimer);
    if (this.flushScheduled !== undefined) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    await this.informers.stop();
  }

  /** Checks every cached and every delivered object; returns how many were out of step. */
  resync(): number {
    if (!this.live) return 0;
    for (const informer of this.informers.all) {
      for (const o of informer.list()) this.markDirty(informer.resource, o.metadata?.namespace, o.metadata?.name ?? '');
    }
    for (const key of this.delivered.keys()) {
      if (this.dirty.has(key)) continue;
      const [kind, namespace, ...rest] = key.split('/');
      this.dirty.set(key, { resource: this.informers.informer(kind).resource, namespace: namespace || undefined, name: rest.join('/') });
    }
    return this.flush(false, true);
  }

  private markDirty(resource: WatchedResource, namespace: string | undefined, name: string): void {
    const key = objectKey({ kind: resource.kind, metadata: { name, namespace } });
    this.dirty.set(key, { resource, namespace, name });
    if (this.live && this.flushScheduled === undefined) this.flushScheduled = setImmediate(() => this.flush(false));
  }

  /** Converts the dirty objects, delivers what changed; returns the number of changes. */
  private flush(initial: boolean, resync = false): number {
    this.flushScheduled = undefined;
    const sink = this.sink;
    if (sink === undefined) return 0;
    const upsert: KubeObject[] = [];
    const remove: ObjectKey[] = [];
    let problemsChanged = false;
    for (const [key, p] of this.dirty) {
      const raw = this.informers.informer(p.resource.kind).get(p.namespace, p.name);
      const before = this.delivered.get(key);
      if (raw === undefined) {
        if (before !== undefined) remove.push(key);
        this.delivered.delete(key);
        problemsChanged = this.invalid.delete(key) || problemsChanged;
        continue;
      }
      const rv = raw.metadata?.resourceVersion;
      if (before !== undefined && rv !== undefined && before.resourceVersion === rv && !this.invalid.has(key)) continue;
      const converted = convertObject(this.name, p.resource, raw);
      if (converted.dropped.length > 0) this.log.debug({ key, fields: converted.dropped }, 'dropped fields unknown to the schema');
      if (converted.object === undefined) {
        this.invalid.set(key, converted.problems);
        problemsChanged = true;
        continue;
      }
      problemsChanged = this.invalid.delete(key) || problemsChanged;
      if (before?.fingerprint !== converted.fingerprint) upsert.push(converted.object);
      this.delivered.set(key, { resourceVersion: rv, fingerprint: converted.fingerprint as string });
    }
    this.dirty.clear();
    if (resync && upsert.length + remove.length > 0) {
      this.log.warn({ upserts: upsert.length, removals: remove.length }, 'resync found objects out of step with the informer caches; repaired');
    }
    if (initial || upsert.length > 0 || remove.length > 0) {
      this.log.debug({ upserts: upsert.length, removals: remove.length, objects: this.delivered.size }, 'kubernetes objects changed');
      sink.apply({ upsert, remove });
    }
    if (initial || problemsChanged) this.publishProblems();
    return upsert.length + remove.length;
  }

  private publishProblems(): void {
    if (this.sink === undefined) return;
    const problems: ConfigProblem[] = [];
    for (const informer of this.informers.all) {
      if (informer.lastError === undefined) continue;
      problems.push({ severity: 'error', source: this.name, kind: informer.resource.kind, message: `${informer.lastError}; the objects already known stay in effect` });
    }
    for (const list of this.invalid.values()) problems.push(...list);
    this.problemLog.report(problems);
    this.sink.problems(problems);
  }
}
