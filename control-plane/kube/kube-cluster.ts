/**
 * The control plane on Kubernetes, assembled: one API connection, the shared informers, the
 * Kubernetes source (handed to startControlPlane like any source), the node authenticator
 * (TokenReview + pod-on-node, over the same Pod cache), and the writing side — leader election,
 * and the waypoint controller that runs only while this replica leads.
 *
 *   const kube = new KubeCluster({...});
 *   const cp = await startControlPlane({ sources: [kube.source], nodeAuthenticator: kube.nodeAuthenticator, ... });
 *   kube.startControllers();   // campaign; the leader runs the waypoint controller
 *   ...
 *   await kube.stopControllers(); await cp.close();
 */
import os from 'node:os';
import type { Logger } from '../../common/log';
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
  /** Node credentials: agents' projected tokens for `audience`, of these "<ns>/<name>" service accounts. */
  nodeAuth: { audience: string; agentServiceAccounts: readonly string[] };
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
  private readonly log: Logger;

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
    this.waypoints = new WaypointController({ client: this.client, informers: this.informers, settings: opts.waypoint, logger: opts.logger, resyncMs: opts.resyncMs });
    this.leader.on('started-leading', () => this.waypoints.start());
    this.leader.on('stopped-leading', () => {
      this.waypoints.stop().catch((err: unknown) => this.log.error({ err }, 'stopping the waypoint controller failed'));
    });
  }

  /** Starts campaigning for the Lease; call once the source has synced (startControlPlane did). */
  startControllers(): void {
    this.leader.start();
  }

  /**
   * Stops the controller, then releases the Lease if held: in that order, so no write of ours
   * can land after the next leader has started writing.
   */
  async stopControllers(): Promise<void> {
    await this.waypoints.stop();
    await this.leader.stop();
  }
}
