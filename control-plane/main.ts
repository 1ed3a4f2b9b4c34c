/**
 * `ambit control-plane`: the control plane as its own process, serving a watched YAML directory
 * (--source yaml) or the Kubernetes API (--source kube, docs/kubernetes.md: informers, leader
 * election, the waypoint controller). Node credentials are local bootstrap tokens (see
 * control-plane/auth), or on Kubernetes projected service-account tokens checked with TokenReview
 * (control-plane/kube/token-review-authenticator.ts), behind the same interface.
 */
import { createLogger } from '../common/log';
import { BootstrapTokenAuthenticator } from './auth/bootstrap-token-authenticator';
import type { ControlPlaneConfig } from './config';
import { startControlPlane } from './control-plane';
import { KubeCluster } from './kube/kube-cluster';
import { YamlDirectorySource } from './sources/yaml-directory-source';

export async function runControlPlane(config: ControlPlaneConfig): Promise<number> {
  const logger = createLogger('control-plane', { level: config.logLevel });
  const kube =
    config.source === 'kube'
      ? new KubeCluster({
          kubeconfig: config.kubeconfig,
          namespace: config.namespace,
          identity: config.podName,
          waypoint: {
            image: config.waypointImage,
            command: config.waypointCommand,
            controlPlaneAddress: config.waypointControlPlane !== '' ? config.waypointControlPlane : `ambit-control-plane.${config.namespace}.svc:15012`,
            trustDomain: config.trustDomain,
            rootNamespace: config.rootNamespace,
          },
          nodeAuth: {
            audience: config.tokenAudience,
            agentServiceAccounts: [config.agentServiceAccount !== '' ? config.agentServiceAccount : `${config.namespace}/ambit-agent`],
          },
          logger,
        })
      : undefined;
  const cp = await startControlPlane({
    sources: [kube?.source ?? new YamlDirectorySource({ dir: config.configDir, logger })],
    stateDir: config.stateDir,
    // On Kubernetes agents present projected service-account tokens; locally, bootstrap tokens.
    nodeAuthenticator: kube?.nodeAuthenticator ?? new BootstrapTokenAuthenticator(config.stateDir),
    // On Kubernetes the CA root is a Secret every replica shares; locally, files in the state directory.
    rootStore: kube?.rootStore,
    trustDomain: config.trustDomain,
    rootNamespace: config.rootNamespace,
    domainSuffix: config.domainSuffix,
    grpcListen: config.grpcListen,
    grpcExtraListen: config.grpcExtraListen,
    httpListen: config.httpListen,
    debounceMs: config.debounceMs,
    logger,
  }).catch(async (err: unknown) => {
    // The CA may have campaigned for the Lease (to create its root Secret): release it, so the
    // next replica need not wait out the lease duration.
    await kube?.stopControllers();
    throw err;
  });
  kube?.startControllers();
  for (const p of cp.problems()) logger.warn(p, `config problem: ${p.message}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  // Release the Lease first, so another replica takes over the writing at once.
  await kube?.stopControllers();
  await cp.close();
  return 0;
}
