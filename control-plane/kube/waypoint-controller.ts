/**
 * The waypoint controller: for each Gateway of class ambit-waypoint, make its ServiceAccount,
 * Service and Deployment exist as waypoint-objects.ts describes them, and report the outcome in
 * the Gateway's status (gateway-status.ts). It runs only on the leader (see leader-election.ts);
 * other replicas serve configuration and do not write.
 *
 * Triggers: Gateway and Service changes from the shared informers (the Service getting its
 * cluster IP is what makes a waypoint Programmed), every ambit-waypoint Gateway when leadership is
 * gained, and a periodic resync that repairs drift (a Deployment edited or deleted by hand).
 * Deployments are read with GET when reconciling rather than watched: waypoints are few, and this
 * keeps the RBAC to get/create/update. Owned objects are never deleted here: the garbage collector
 * does that when their Gateway goes (ownerReferences).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../common/log';
import { describeApiError, isConflict, isNotFound } from '../sources/kube/api-errors';
import type { KubeClient } from '../sources/kube/kube-client';
import type { KubeInformers } from '../sources/kube/kube-informers';
import { gatewayStatus, sameStatus, type GatewayStatus, type WaypointOutcome } from './gateway-status';
import { WorkQueue } from './work-queue';
import { AMBIT_WAYPOINT_CLASS, isSubset, waypointObjects, type GatewayObject, type WaypointDeploymentSettings } from './waypoint-objects';

export interface WaypointControllerOptions {
  client: KubeClient;
  informers: KubeInformers;
  settings: WaypointDeploymentSettings;
  logger: Logger;
  /** Re-reconcile every waypoint this often (default 5 min; 0 = never). */
  resyncMs?: number;
}

type Obj = KubernetesObject & Record<string, any>;

class OwnershipConflict extends Error {}

const keyOf = (namespace: string | undefined, name: string | undefined): string => `${namespace ?? ''}/${name ?? ''}`;

export class WaypointController {
  private readonly queue: WorkQueue;
  private readonly log: Logger;
  private unsubscribe?: () => void;
  private resyncTimer?: NodeJS.Timeout;
  /**
   * Per Gateway, the resourceVersion our last status write replaced: while the informer still
   * holds that version, its status is ours from before the write, not news, and writing again
   * would only be refused (409). The informer's newer copy queues the next reconcile.
   */
  private readonly replacedVersion = new Map<string, string>();

  constructor(private readonly opts: WaypointControllerOptions) {
    this.log = opts.logger.child({ component: 'waypoint-controller' });
    this.queue = new WorkQueue((key) => this.reconcile(key), this.log);
  }

  start(): void {
    if (this.unsubscribe !== undefined) return;
    this.unsubscribe = this.opts.informers.onChange((resource, _type, o) => {
      if (resource.kind === 'Gateway' && (o as GatewayObject).spec?.gatewayClassName === AMBIT_WAYPOINT_CLASS) {
        this.queue.add(keyOf(o.metadata?.namespace, o.metadata?.name));
      } else if (resource.kind === 'Service') {
        // A waypoint Service changed (got its cluster IP, was deleted): re-check its Gateway.
        const owner = o.metadata?.ownerReferences?.find((r) => r.kind === 'Gateway' && r.controller === true);
        if (owner !== undefined) this.queue.add(keyOf(o.metadata?.namespace, owner.name));
      }
    });
    this.queue.start();
    this.resyncAll();
    const every = this.opts.resyncMs ?? 300_000;
    if (every > 0) this.resyncTimer = setInterval(() => this.resyncAll(), every);
    this.log.info('waypoint controller started');
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.resyncTimer);
    await this.queue.stop();
  }

  /** Waits until no reconcile is queued or running. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private resyncAll(): void {
    for (const gw of this.opts.informers.list('Gateway') as GatewayObject[]) {
      if (gw.spec?.gatewayClassName === AMBIT_WAYPOINT_CLASS) this.queue.add(keyOf(gw.metadata.namespace, gw.metadata.name));
    }
  }

  private async reconcile(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const gw = this.opts.informers.get('Gateway', namespace, name) as GatewayObject | undefined;
    if (gw === undefined || gw.spec?.gatewayClassName !== AMBIT_WAYPOINT_CLASS) {
      this.replacedVersion.delete(key);
      return; // gone: the GC removes what it owned
    }
    const outcome = await this.ensureObjects(gw);
    await this.writeStatus(gw, outcome);
  }

  private async ensureObjects(gw: GatewayObject): Promise<WaypointOutcome> {
    const where = `${gw.metadata.namespace}/${gw.metadata.name}`;
    const accepted = { ok: true, reason: 'Accepted', message: 'Resource accepted' };
    if (!(gw.spec?.listeners ?? []).some((l) => l.protocol === 'HBONE')) {
      const message = `a waypoint needs a listener with protocol HBONE (port 15008); add {name: mesh, port: 15008, protocol: HBONE}`;
      return { accepted: { ok: false, reason: 'Invalid', message }, programmed: { ok: false, reason: 'Invalid', message }, addresses: [] };
    }
    const desired = waypointObjects(gw, this.opts.settings);
    const { core, apps } = this.opts.client;
    const ns = gw.metadata.namespace;
    try {
      await this.ensure(gw, 'ServiceAccount', desired.serviceAccount, {
        read: () => core.readNamespacedServiceAccount({ namespace: ns, name: gw.metadata.name }),
        create: (body) => core.createNamespacedServiceAccount({ namespace: ns, body }),
        // An existing account is used as it is: it may carry annotations (cloud IAM) we must keep.
        update: undefined,
      });
      const service = await this.ensure(gw, 'Service', desired.service, {
        read: () => core.readNamespacedService({ namespace: ns, name: gw.metadata.name }),
        create: (body) => core.createNamespacedService({ namespace: ns, body }),
        update: (current) => {
          const body = { ...current, metadata: mergeMeta(current, desired.service), spec: { ...current.spec, selector: desired.service.spec.selector, ports: desired.service.spec.ports } };
          return core.replaceNamespacedService({ namespace: ns, name: gw.metadata.name, body });
        },
      });
      await this.ensure(gw, 'Deployment', desired.deployment, {
        read: () => apps.readNamespacedDeployment({ namespace: ns, name: gw.metadata.name }),
        create: (body) => apps.createNamespacedDeployment({ namespace: ns, body }),
        update: (current) => {
          // Replicas are left to whoever scales the waypoint (kubectl scale, an HPA).
          const spec = { ...current.spec, selector: desired.deployment.spec.selector, template: desired.deployment.spec.template, replicas: current.spec?.replicas ?? 1 };
          return apps.replaceNamespacedDeployment({ namespace: ns, name: gw.metadata.name, body: { ...current, metadata: mergeMeta(current, desired.deployment), spec } });
        },
        compare: (d, a) => isSubset(d.spec.template, a.spec?.template) && isSubset(d.spec.selector, a.spec?.selector) && isSubset(d.metadata, a.metadata),
      });
      const addresses = ((service.spec?.clusterIPs as string[] | undefined) ?? [service.spec?.clusterIP]).filter((ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None');
      const programmed =
        addresses.length > 0
          ? { ok: true, reason: 'Programmed', message: `Deployment and Service ${where} created; address ${addresses.join(', ')}` }
          : { ok: false, reason: 'AddressNotAssigned', message: `Service ${where} has no cluster IP yet` };
      return { accepted, programmed, addresses };
    } catch (e) {
      if (!(e instanceof OwnershipConflict)) throw e;
      return { accepted, programmed: { ok: false, reason: 'Invalid', message: e.message }, addresses: [] };
    }
  }

  /** Creates `desired` when absent, updates it when it drifted; refuses objects someone else owns. */
  private async ensure(
    gw: GatewayObject,
    kind: string,
    desired: Obj,
    io: {
      read(): Promise<Obj>;
      create(body: Obj): Promise<Obj>;
      update: ((current: Obj) => Promise<Obj>) | undefined;
      compare?: (desired: Obj, actual: Obj) => boolean;
    },
  ): Promise<Obj> {
    const where = `${kind} ${gw.metadata.namespace}/${gw.metadata.name}`;
    let current: Obj;
    try {
      current = await io.read();
    } catch (err) {
      if (!isNotFound(err)) throw new Error(describeApiError(`reading ${where}`, err), { cause: err });
      try {
        const created = await io.create(desired);
        this.log.info({ gateway: `${gw.metadata.namespace}/${gw.metadata.name}`, kind }, `created ${where}`);
        return created;
      } catch (e) {
        throw new Error(describeApiError(`creating ${where}`, e), { cause: e });
      }
    }
    if (io.update === undefined) return current;
    const owned = (current.metadata?.ownerReferences ?? []).some((r: { uid?: string; controller?: boolean }) => r.uid === gw.metadata.uid && r.controller === true);
    if (!owned) {
      throw new OwnershipConflict(`${where} exists and is not managed by this Gateway; delete it (or rename the Gateway) so the control plane can create its own`);
    }
    const inStep = io.compare?.(desired, current) ?? isSubset({ metadata: desired.metadata, spec: desired.spec }, current);
    if (inStep) return current;
    try {
      const updated = await io.update(current);
      this.log.info({ gateway: `${gw.metadata.namespace}/${gw.metadata.name}`, kind }, `updated ${where} (it had drifted from the Gateway's)`);
      return updated;
    } catch (e) {
      throw new Error(describeApiError(`updating ${where}`, e), { cause: e });
    }
  }

  private async writeStatus(gw: GatewayObject, outcome: WaypointOutcome): Promise<void> {
    const { name, namespace } = gw.metadata;
    const key = keyOf(namespace, name);
    if (gw.metadata.resourceVersion !== undefined && this.replacedVersion.get(key) === gw.metadata.resourceVersion) return;
    const previous = gw.status as GatewayStatus | undefined;
    const status = gatewayStatus(previous, outcome, gw.metadata.generation);
    if (sameStatus(previous, status)) return;
    try {
      // PUT with the resourceVersion we read: a Gateway edited meanwhile is a 409, and the
      // informer's newer copy queues another reconcile.
      await this.opts.client.custom.replaceNamespacedCustomObjectStatus({
        group: 'gateway.networking.k8s.io',
        version: 'v1',
        namespace,
        plural: 'gateways',
        name,
        body: { ...gw, status },
      });
      if (gw.metadata.resourceVersion !== undefined) this.replacedVersion.set(key, gw.metadata.resourceVersion);
      this.log.info({ gateway: `${namespace}/${name}`, accepted: outcome.accepted.reason, programmed: outcome.programmed.reason }, 'gateway status written');
    } catch (e) {
      if (isConflict(e)) throw new Error(`Gateway ${namespace}/${name} changed while its status was written; reconciling again`);
      throw new Error(describeApiError(`writing the status of Gateway ${namespace}/${name}`, e), { cause: e });
    }
  }
}

/** Our labels and owner reference over the object's own metadata (others' labels are kept). */
function mergeMeta(current: Obj, desired: Obj): Record<string, unknown> {
  return {
    ...current.metadata,
    labels: { ...current.metadata?.labels, ...desired.metadata?.labels },
    ownerReferences: desired.metadata?.ownerReferences,
  };
}
