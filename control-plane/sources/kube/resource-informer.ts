/**
 * One resource's informer: the client's ListWatch (list, then watch from the list's
 * resourceVersion; a 410 Gone or an ERROR 410 event makes it list again, and the objects that
 * vanished meanwhile come out as deletes, so no change is lost) plus what ListWatch leaves to its
 * user: paging the list, asking for bookmarks (so a resumed watch starts from a recent
 * resourceVersion and avoids a 410), a server-side watch timeout (so a silently dead connection is
 * noticed), restarting after errors with rate-limited retries, and treating an absent CRD as empty.
 */
import { ListWatch, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../../common/log';
import { ControlPlaneErrorCodes } from '../../errors';
import { describeApiError, httpStatusOf } from './api-errors';
import type { KubeClient } from './kube-client';
import { PacedWatch } from './paced-watch';
import { RetryBackoff, type BackoffOptions } from './retry-backoff';
import type { RawList, WatchedResource } from './watched-resources';

export type ChangeType = 'add' | 'update' | 'delete';

export interface ResourceInformerOptions {
  client: KubeClient;
  resource: WatchedResource;
  logger: Logger;
  onChange(type: ChangeType, object: KubernetesObject): void;
  /** Synced, failing or absent changed. */
  onState(): void;
  /** Objects per list page (default 500, as client-go's reflector). */
  pageSize?: number;
  /** Server-side watch timeout (default: 5-10 min, drawn per informer so watches do not expire together). */
  watchTimeoutSeconds?: number;
  backoff?: BackoffOptions;
  /** How often an absent optional API (a CRD not installed) is looked for again (default 30 s). */
  absentRecheckMs?: number;
}

export class ResourceInformer {
  readonly resource: WatchedResource;
  private readonly informer: ListWatch<KubernetesObject>;
  private readonly watch: PacedWatch;
  private readonly backoff: RetryBackoff;
  private readonly log: Logger;
  private retryTimer?: NodeJS.Timeout;
  private stopped = true;
  private synced_ = false;
  private absent_ = false;
  private lastError_: string | undefined;

  constructor(private readonly opts: ResourceInformerOptions) {
    this.resource = opts.resource;
    this.log = opts.logger.child({ resource: this.resource.path });
    this.backoff = new RetryBackoff(opts.backoff);
    this.watch = new PacedWatch(opts.client.config, opts.backoff ?? {}, () => this.recovered());
    const timeout = opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    // ListWatch passes only resourceVersion (and selectors) as query parameters; the rest rides
    // on the path, which Watch parses as a URL.
    const path = `${this.resource.path}?allowWatchBookmarks=true&timeoutSeconds=${timeout}`;
    this.informer = new ListWatch(path, this.watch, () => this.listAll(), false);
    this.informer.on('add', (o) => opts.onChange('add', o));
    this.informer.on('update', (o) => opts.onChange('update', o));
    this.informer.on('delete', (o) => opts.onChange('delete', o));
    this.informer.on('error', (err) => this.onError(err));
  }

  /** The first list has been delivered (or the API is absent and so is empty). */
  get synced(): boolean {
    return this.synced_;
  }

  /** An optional API (CRD) the server does not serve. */
  get absent(): boolean {
    return this.absent_;
  }

  /** The last failure, until the next successful list or watch restart. */
  get lastError(): string | undefined {
    return this.lastError_;
  }

  /** The resourceVersion the next watch starts from ('' = it lists first). */
  get resourceVersion(): string {
    return this.informer.latestResourceVersion();
  }

  get(namespace: string | undefined, name: string): KubernetesObject | undefined {
    return this.informer.get(name, namespace);
  }

  list(): readonly KubernetesObject[] {
    return this.informer.list();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.watch.cancel();
    await this.informer.stop();
  }

  /** Every page of the collection, at the first page's resourceVersion (continue tokens pin it). */
  private async listAll(): Promise<RawList> {
    const limit = this.opts.pageSize ?? 500;
    const first = await this.resource.list(this.opts.client, { limit });
    const items = [...first.items];
    let token = first.metadata.continue;
    while (token !== undefined && token !== '') {
      const page = await this.resource.list(this.opts.client, { limit, continueToken: token });
      items.push(...page.items);
      token = page.metadata.continue;
    }
    // ListWatch files the objects under their kind-less list form; give them their type back.
    for (const o of items) {
      o.apiVersion ??= this.resource.apiVersion;
      o.kind ??= this.resource.kind;
    }
    this.log.debug({ objects: items.length, resourceVersion: first.metadata.resourceVersion }, 'listed');
    // ListWatch fills its cache and calls the handlers synchronously once this promise resolves;
    // setImmediate runs after that, so "synced" never precedes the objects it promises.
    setImmediate(() => this.listed());
    return { metadata: { resourceVersion: first.metadata.resourceVersion }, items };
  }

  /** A watch resumed without a list after a failure: clear the failure. */
  private recovered(): void {
    if (this.stopped || this.lastError_ === undefined) return;
    this.backoff.reset();
    this.lastError_ = undefined;
    this.log.info('watching again');
    this.opts.onState();
  }

  private listed(): void {
    if (this.stopped) return;
    const changed = !this.synced_ || this.absent_ || this.lastError_ !== undefined;
    this.backoff.reset();
    this.synced_ = true;
    if (this.absent_) this.log.info('the API is served now; watching it');
    this.absent_ = false;
    this.lastError_ = undefined;
    if (changed) this.opts.onState();
  }

  private onError(err: unknown): void {
    // stop() aborts the open watch, which ListWatch reports as an error: not a failure.
    if (this.stopped) return;
    if (this.resource.optional && httpStatusOf(err) === 404) {
      const recheck = this.opts.absentRecheckMs ?? 30_000;
      if (!this.absent_) {
        this.log.info({ recheckMs: recheck }, `${this.resource.apiVersion} ${this.resource.plural} is not served (CRD not installed?); treating it as empty and looking again every ${recheck} ms`);
      }
      const changed = !this.absent_ || !this.synced_;
      this.absent_ = true;
      this.synced_ = true;
      this.lastError_ = undefined;
      if (changed) this.opts.onState();
      this.restartIn(recheck);
      return;
    }
    const delay = this.backoff.next();
    this.lastError_ = describeApiError(`list/watch ${this.resource.path}`, err);
    this.log.warn(
      { err, attempt: this.backoff.attempts, retryInMs: delay, code: ControlPlaneErrorCodes.KUBE_API },
      `${this.lastError_}; retrying in ${delay} ms (the objects already known stay in effect)`,
    );
    this.opts.onState();
    this.restartIn(delay);
  }

  private restartIn(ms: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) void this.informer.start();
    }, ms);
  }
}
