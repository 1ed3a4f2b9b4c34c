/**
 * The control plane on Kubernetes, assembled: one API connection, the shared informers, the
 * Kubernetes source (handed to startControlPlane like any source), the node authenticator
 * (TokenReview + pod-on-node, over the same Pod cache), the CA's root store (a Secret in the
 * control plane's namespace), and the writing side — leader election, and the waypoint
 * controller that runs only while this replica leads.
 *
 *   const kube = new KubeCluster({...});
 *   const cp = await startControlPlane({ sources: [kube.source], nodeAuthenticator: kube.nodeAuthenticator, rootStore: kube.rootStore, ... });
 *   kube.startControllers();   // campaign; the leader runs the waypoint controller
 *   ...
 *   await kube.stopControllers(); await cp.close();
 *
 * Leader election may start before startControllers(): a root Secret that does not exist yet is
 * created by the leader, so the root store campaigns while the CA opens. The waypoint controller
 * still waits for startControllers(), when the informers have listed.
 */
import os from 'node:os';
import type { Logger } from '../../common/log';
import { SecretRootStore } from '../ca/secret-root-store';
import { connectKube, type KubeClient } from '../sources/kube/kube-client';
import { KubeInformers, type KubeInformersOptions } from '../sources/kube/kube-informers';
import { KubeSource } from '../sources/kube/kube-source';
import { LeaderElector, type LeaderElectionOptions } from './leader-election';
import { TokenReviewAuthenticator } from './token-review-authenticator';
import { WaypointController } from './waypoint-controller';
import type { WaypointDeploymentSettings } from './waypoint-objects';

export const LEASE_NAME = 'ambit-control-plane';

export interface KubeClusterOptions {
  /** kubeconfig file; '' = $KUBECONFIG, ~/.kube/config, or the pod's service account. */
  kubeconfig: string;
  /** The control plane's own namespace (its Lease). */
  namespace: string;
  /** This replica's identity in the Lease ('' = the host name). */
  identity: string;
  waypoint: WaypointDeploymentSettings;
  /**
   * Node credentials: projected tokens for `audience`, of these "<ns>/<name>" agent service
   * accounts (node-wide), or of waypoint pods (their own identity only).
   */
  nodeAuth: { audience: string; agentServiceAccounts: readonly string[] };
  /** The CA root Secret (default ambit-ca-root in `namespace`; wait up to 60 s for the leader to create it). */
  caRoot?: { secretName?: string; waitMs?: number; pollMs?: number };
  logger: Logger;
  /** Tuning, mostly for tests. */
  informers?: Omit<KubeInformersOptions, 'client' | 'logger'>;
  leaderElection?: Pick<LeaderElectionOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>;
  syncTimeoutMs?: number;
  resyncMs?: number;
}

export class KubeCluster {
  readonly client: KubeClient;
  readonly informers: KubeInformers;
  readonly source: KubeSource;
  readonly leader: LeaderElector;
  readonly waypoints: WaypointController;
  /** The CA's node authenticator on Kubernetes (TokenReview + pod-on-node). */
  readonly nodeAuthenticator: TokenReviewAuthenticator;
  /** Where the CA's root lives: a Secret every replica shares. */
  readonly rootStore: SecretRootStore;
  private readonly log: Logger;
  private controllersStarted = false;

  constructor(opts: KubeClusterOptions) {
    this.log = opts.logger;
    this.client = connectKube(opts.kubeconfig);
    this.informers = new KubeInformers({ ...opts.informers, client: this.client, logger: opts.logger });
    this.source = new KubeSource({ informers: this.informers, logger: opts.logger, syncTimeoutMs: opts.syncTimeoutMs, resyncMs: opts.resyncMs });
    this.leader = new LeaderElector({
      ...opts.leaderElection,
      coordination: this.client.coordination,
      namespace: opts.namespace,
      name: LEASE_NAME,
      identity: opts.identity !== '' ? opts.identity : os.hostname(),
      logger: opts.logger,
    });
    this.nodeAuthenticator = new TokenReviewAuthenticator({
      ...opts.nodeAuth,
      authentication: this.client.authentication,
      informers: this.informers,
      logger: opts.logger,
    });
    this.rootStore = new SecretRootStore({
      secrets: this.client.core,
      namespace: opts.namespace,
      name: opts.caRoot?.secretName,
      leadership: this.leader,
      lease: `${opts.namespace}/${LEASE_NAME}`,
      waitMs: opts.caRoot?.waitMs,
      pollMs: opts.caRoot?.pollMs,
    });
    // Waypoint pods present tokens for the audience the authenticator checks.
    const waypoint = { ...opts.waypoint, tokenAudience: opts.nodeAuth.audience };
    this.waypoints = new WaypointController({ client: this.client, informers: this.informers, settings: waypoint, logger: opts.logger, resyncMs: opts.resyncMs });
    this.leader.on('started-leading', () => {
      if (this.controllersStarted) this.waypoints.start();
    });
    this.leader.on('stopped-leading', () => {
      this.waypoints.stop().catch((err: unknown) => this.log.error({ err }, 'stopping the waypoint controller failed'));
    });
  }

  /** Starts campaigning for the Lease; call once the source has synced (startControlPlane did). */
  startControllers(): void {
    this.controllersStarted = true;
    this.leader.start(); // no-op when the root store already campaigns
    if (this.leader.isLeader) this.waypoints.start();
  }

  /**
   * Stops the controller, then releases the Lease if held: in that order, so no write of ours
   * can land after the next leader has started writing.
   */
  async stopControllers(): Promise<void> {
    this.controllersStarted = false;
    await this.waypoints.stop();
    await this.leader.stop();
  }
}
