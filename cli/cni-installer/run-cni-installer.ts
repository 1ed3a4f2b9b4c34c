/**
 * `ambit cni-install` as a process: install and chain, keep it chained until SIGTERM/SIGINT, then
 * remove the entry and the binary when the settings say so (auto: only when the DaemonSet is being
 * deleted, see uninstall-detector.ts). Exit codes: 0 after a stop, 1 when the plugin cannot be
 * kept chained (the entry is left as it is: fail closed; the kubelet restarts the container).
 */
import { createLogger, type Logger } from '../../common/log';
import { ambitCniEntry } from './cni-config';
import { CniInstaller } from './installer';
import type { CniInstallSettings } from './settings';
import { kubeDaemonSetReader, UninstallDetector, type DaemonSetReader, type StopDecision } from './uninstall-detector';

export interface RunOptions {
  logger?: Logger;
  /** The DaemonSet lookup (tests); default: the Kubernetes API per settings.kubeconfig. */
  readDaemonSet?: DaemonSetReader;
}

export async function runCniInstaller(settings: CniInstallSettings, opts: RunOptions = {}): Promise<number> {
  const log = opts.logger ?? createLogger('cni-installer', { level: settings.logLevel });
  const detector =
    settings.removeOnStop === 'auto' ? new UninstallDetector(opts.readDaemonSet ?? kubeDaemonSetReader(settings.kubeconfig), settings.daemonSet, log) : undefined;
  const installer = new CniInstaller({
    pluginSource: settings.pluginSource,
    binDir: settings.binDir,
    confDir: settings.confDir,
    entry: ambitCniEntry({ socketPath: settings.enrollmentSocket, recordDir: settings.recordDir, excludeNamespaces: settings.excludeNamespaces }),
    logger: log,
    resyncMs: settings.resyncSeconds * 1000,
  });

  let signalled: (signal: NodeJS.Signals) => void = () => undefined;
  const signal = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  process.once('SIGTERM', signalled);
  process.once('SIGINT', signalled);
  try {
    try {
      await installer.start();
    } catch (err) {
      log.fatal({ err, code: (err as { code?: unknown }).code }, `cannot install ambit-cni: ${(err as Error).message}`);
      return 1;
    }
    log.info({ removeOnStop: settings.removeOnStop, daemonSet: settings.daemonSet || undefined }, 'keeping ambit-cni chained; watching the CNI config directory');
    const stopVerifying = detector?.verifyUntilReadable(settings.resyncSeconds * 1000);

    const ended = await Promise.race([signal.then((s) => ({ signal: s })), installer.failed.then((error) => ({ error }))]);
    stopVerifying?.();
    if ('error' in ended) {
      log.fatal({ err: ended.error, code: (ended.error as { code?: unknown }).code }, `cannot keep ambit-cni chained: ${ended.error.message}`);
      return 1;
    }
    const decision: StopDecision =
      settings.removeOnStop === 'always'
        ? { remove: true, reason: 'removeOnStop is always' }
        : settings.removeOnStop === 'never'
          ? { remove: false, reason: 'removeOnStop is never' }
          : await detector!.decide();
    log.info({ signal: ended.signal, remove: decision.remove }, decision.reason);
    const result = installer.stop(decision.remove);
    if (decision.remove) {
      log.info({ unchained: result.unchained, binaryRemoved: result.binaryRemoved }, `removed ambit-cni from ${result.unchained.length} CNI config file(s)${result.binaryRemoved ? ' and the binary' : ''}`);
      for (const p of result.problems) log.error(`could not clean up: ${p}; remove the "ambit-cni" entry from the node's CNI config and ${installer.binaryPath} by hand`);
    }
    return result.problems.length > 0 ? 1 : 0;
  } finally {
    installer.stop(false);
    process.removeListener('SIGTERM', signalled);
    process.removeListener('SIGINT', signalled);
    log.flush();
  }
}
