/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: a candidate
 * takes the Lease when it is absent, released (no holder) or not renewed for leaseDuration as
 * measured on the candidate's own clock since it last saw the record change (so clock skew
 * between replicas does not matter); the leader renews every retryPeriod and steps down if it
 * could not renew for renewDeadline; every write carries the resourceVersion it read, so two
 * candidates can never both succeed (409 Conflict for the loser). stop() releases the Lease so a
 * successor need not wait out the duration.
 *
 * Every replica serves configuration; only the leader writes to the API (waypoint objects,
 * Gateway status).
 */
import { EventEmitter } from 'node:events';
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../common/log';
import { ControlPlaneErrorCodes } from '../errors';
import { describeApiError, isConflict, isNotFound } from '../sources/kube/api-errors';

export interface LeaderElectionOptions {
  coordination: CoordinationV1Api;
  namespace: string;
  name: string;
  /** This replica's identity (the pod name), written as holderIdentity. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
}

export interface LeaderElector {
  on(event: 'started-leading' | 'stopped-leading', listener: () => void): this;
}

export class LeaderElector extends EventEmitter {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger;
  private leader = false;
  private stopped = true;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** The record as last seen, and when (local clock) it last changed. */
  private observed?: { resourceVersion: string; holder: string; at: number };
  private lastRenewal = 0;
  /** The last failure logged at warn; the same one again is logged at debug (it recurs every retry). */
  private lastFailure?: string;

  constructor(private readonly opts: LeaderElectionOptions) {
    super();
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
    this.log = opts.logger.child({ component: 'leader-election', lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops campaigning; a leader releases the Lease (holderIdentity cleared) and steps down. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (!this.leader) return;
    try {
      const lease = await this.opts.coordination.readNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace });
      if (lease.spec?.holderIdentity === this.opts.identity) {
        lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime() };
        await this.opts.coordination.replaceNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace, body: lease });
        this.log.info('released the lease');
      }
    } catch (err) {
      this.log.warn({ err, code: ControlPlaneErrorCodes.KUBE_API }, `${describeApiError('releasing the lease', err)}; the next leader takes over after the lease duration`);
    }
    this.setLeader(false);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule(this.retryPeriodMs);
      });
    }, ms);
  }

  private async tick(): Promise<void> {
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
      this.lastFailure = undefined;
    } catch (err) {
      const message = describeApiError(this.leader ? 'renewing the lease' : 'acquiring the lease', err);
      if (message !== this.lastFailure) this.log.warn({ err, code: ControlPlaneErrorCodes.KUBE_API }, `${message}; retrying every ${this.retryPeriodMs} ms`);
      else this.log.debug({ err }, message);
      this.lastFailure = message;
    }
    if (this.stopped) return;
    if (ok) {
      this.lastRenewal = Date.now();
      this.setLeader(true);
    } else if (this.leader && this.observed !== undefined && this.observed.holder !== '' && this.observed.holder !== this.opts.identity) {
      this.log.error({ holder: this.observed.holder }, 'another replica holds the lease now; stepping down');
      this.setLeader(false);
    } else if (this.leader && Date.now() - this.lastRenewal > this.renewDeadlineMs) {
      this.log.error({ renewDeadlineMs: this.renewDeadlineMs }, 'could not renew the lease within the renew deadline; stepping down');
      this.setLeader(false);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { coordination, name, namespace, identity } = this.opts;
    const now = new V1MicroTime();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    let lease: V1Lease;
    try {
      lease = await coordination.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await coordination.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        });
        return true;
      } catch (e) {
        if (isConflict(e)) return false; // another replica created it first
        throw e;
      }
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const rv = lease.metadata?.resourceVersion ?? '';
    if (this.observed?.resourceVersion !== rv) this.observed = { resourceVersion: rv, holder, at: Date.now() };
    const heldByOther = holder !== '' && holder !== identity;
    const theirDurationMs = (lease.spec?.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && Date.now() - this.observed.at < theirDurationMs) return false;
    const transition = holder !== identity;
    lease.spec = {
      ...lease.spec,
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: now,
      acquireTime: transition ? now : lease.spec?.acquireTime,
      leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (transition && holder !== '' ? 1 : 0),
    };
    try {
      const written = await coordination.replaceNamespacedLease({ name, namespace, body: lease });
      this.observed = { resourceVersion: written.metadata?.resourceVersion ?? '', holder: identity, at: Date.now() };
      if (transition) this.log.info({ previousHolder: holder || undefined }, 'acquired the lease');
      return true;
    } catch (err) {
      if (isConflict(err)) return false; // someone wrote it since we read it
      throw err;
    }
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.log.info(leader ? 'became the leader: this replica writes waypoint objects and Gateway status' : 'no longer the leader');
    this.emit(leader ? 'started-leading' : 'stopped-leading');
  }
}
