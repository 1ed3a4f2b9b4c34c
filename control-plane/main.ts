/**
 * `ambit control-plane`: the control plane as its own process, serving a watched YAML directory.
 * Node credentials are local bootstrap tokens (see control-plane/auth); on Kubernetes the informer
 * source and TokenReview authenticator take their place behind the same interfaces.
 */
import { createLogger } from '../common/log';
import { BootstrapTokenAuthenticator } from './auth/bootstrap-token-authenticator';
import type { ControlPlaneConfig } from './config';
import { startControlPlane } from './control-plane';
import { YamlDirectorySource } from './sources/yaml-directory-source';

export async function runControlPlane(config: ControlPlaneConfig): Promise<number> {
  const logger = createLogger('control-plane', { level: config.logLevel });
  const cp = await startControlPlane({
    sources: [new YamlDirectorySource({ dir: config.configDir, logger })],
    stateDir: config.stateDir,
    nodeAuthenticator: new BootstrapTokenAuthenticator(config.stateDir),
    trustDomain: config.trustDomain,
    rootNamespace: config.rootNamespace,
    domainSuffix: config.domainSuffix,
    grpcListen: config.grpcListen,
    grpcExtraListen: config.grpcExtraListen,
    httpListen: config.httpListen,
    debounceMs: config.debounceMs,
    logger,
  });
  for (const p of cp.problems()) logger.warn(p, `config problem: ${p.message}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await cp.close();
  return 0;
}
