/**
 * The informers of every watched resource, shared: the Kubernetes source reads them into the
 * model and the waypoint controller reacts to Gateways and Services from the same caches, so the
 * API server sees one list/watch per resource per control-plane replica.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../../common/log';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../../errors';
import type { KubeClient } from './kube-client';
import { ResourceInformer, type ChangeType, type ResourceInformerOptions } from './resource-informer';
import { SOURCE_RESOURCES, type WatchedResource } from './watched-resources';

export type ChangeListener = (resource: WatchedResource, type: ChangeType, object: KubernetesObject) => void;

export interface KubeInformersOptions extends Pick<ResourceInformerOptions, 'pageSize' | 'watchTimeoutSeconds' | 'backoff' | 'absentRecheckMs'> {
  client: KubeClient;
  logger: Logger;
  resources?: readonly WatchedResource[];
}

export class KubeInformers {
  readonly server: string;
  private readonly informers = new Map<string, ResourceInformer>();
  private readonly changeListeners = new Set<ChangeListener>();
  private readonly stateListeners = new Set<() => void>();
  private started = false;

  constructor(opts: KubeInformersOptions) {
    this.server = opts.client.server;
    const logger = opts.logger.child({ component: 'kube-informers', server: opts.client.server });
    for (const resource of opts.resources ?? SOURCE_RESOURCES) {
      const informer = new ResourceInformer({
        ...opts,
        resource,
        logger,
        onChange: (type, o) => {
          for (const l of this.changeListeners) l(resource, type, o);
        },
        onState: () => {
          for (const l of this.stateListeners) l();
        },
      });
      this.informers.set(resource.kind, informer);
    }
  }

  get all(): ResourceInformer[] {
    return [...this.informers.values()];
  }

  get synced(): boolean {
    return this.all.every((i) => i.synced);
  }

  informer(kind: string): ResourceInformer {
    const i = this.informers.get(kind);
    if (i === undefined) throw new Error(`no informer for kind ${kind}`);
    return i;
  }

  get(kind: string, namespace: string | undefined, name: string): KubernetesObject | undefined {
    return this.informer(kind).get(namespace, name);
  }

  list(kind: string): readonly KubernetesObject[] {
    return this.informer(kind).list();
  }

  /** Per-object changes (after the informer's cache has them); returns an unsubscribe. */
  onChange(listener: ChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Some informer became synced, started failing, recovered, or found its API absent. */
  onState(listener: () => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const i of this.all) i.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all(this.all.map((i) => i.stop()));
  }

  /**
   * Resolves once every informer has listed; after `timeoutMs`, rejects naming the resources that
   * have not, with their last error.
   */
  whenSynced(timeoutMs: number): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
      };
      const unsubscribe = this.onState(() => {
        if (!this.synced) return;
        done();
        resolve();
      });
      const timer = setTimeout(() => {
        done();
        const pending = this.all.filter((i) => !i.synced).map((i) => `${i.resource.path}: ${i.lastError ?? 'no answer yet'}`);
        reject(
          new ControlPlaneError(
            ControlPlaneErrorCodes.SOURCE_UNAVAILABLE,
            `the Kubernetes API at ${this.server} did not deliver a first list within ${timeoutMs} ms (${pending.join('; ')})`,
          ),
        );
      }, timeoutMs);
    });
  }
}
