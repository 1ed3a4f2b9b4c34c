/**
 * Settings of `ambit cni-install`: every option, its environment variable, its default and its
 * check, declared here once (flags override the environment). The defaults are the paths the
 * chart's agent DaemonSet uses: the host's CNI directories mounted below /host, the plugin at
 * /opt/cni/bin/ambit-cni in the image.
 */
import path from 'node:path';
import type { LogLevel } from '../../common/log';
import { invalidSetting, loadSettings, logLevel, SettingError, wholeNumber, type Declarations } from '../../common/settings/declared-settings';
import { CniInstallError, CniInstallErrorCodes } from './errors';

/** What happens to the chained entry and the binary when the installer stops (SIGTERM). */
export type RemoveOnStop = 'auto' | 'always' | 'never';

export interface CniInstallSettings {
  /** The ambit-cni binary to install (in the image). */
  readonly pluginSource: string;
  /** The host's CNI plugin directory, as mounted in the container. */
  readonly binDir: string;
  /** The host's CNI config directory, as mounted in the container. */
  readonly confDir: string;
  /** ambit-cni's socketPath: the agent's enrollment socket, as a host path. */
  readonly enrollmentSocket: string;
  /** ambit-cni's recordDir, as a host path (the agent's --cni-record-dir). */
  readonly recordDir: string;
  /** ambit-cni's excludeNamespaces: pods there start without an agent. */
  readonly excludeNamespaces: readonly string[];
  readonly removeOnStop: RemoveOnStop;
  /** "<namespace>/<name>" of the DaemonSet running the installer (removeOnStop auto). */
  readonly daemonSet: string;
  /** kubeconfig for the DaemonSet check; '' = $KUBECONFIG, ~/.kube/config, or the pod's token. */
  readonly kubeconfig: string;
  /** Seconds between full checks of the binary and the chain, besides watching the directory. */
  readonly resyncSeconds: number;
  readonly logLevel: LogLevel;
}

const absolute = (v: string, key: string): string => {
  if (!path.isAbsolute(v)) throw invalidSetting(key, v, 'use an absolute path');
  return path.normalize(v);
};
const optionalFile = (v: string): string => (v === '' ? '' : path.resolve(v));
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const namespaces = (v: string, key: string): string[] => {
  const list = v.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const bad = list.find((n) => n.length > 63 || !DNS_LABEL.test(n));
  if (bad !== undefined || list.length > 64) throw invalidSetting(key, v, 'use up to 64 comma-separated namespace names, e.g. kube-system,ambit-system');
  return [...new Set(list)];
};
const removeOnStop = (v: string, key: string): RemoveOnStop => {
  if (v === 'auto' || v === 'always' || v === 'never') return v;
  throw invalidSetting(key, v, 'use auto (when the DaemonSet is deleted), always or never');
};
const namespacedName = (v: string, key: string): string => {
  if (v !== '' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(v)) throw invalidSetting(key, v, 'use <namespace>/<name>, e.g. ambit-system/ambit-agent');
  return v;
};

export const CNI_INSTALL_DECLARATIONS: Declarations<CniInstallSettings> = {
  pluginSource: { env: 'AMBIT_CNI_PLUGIN_SOURCE', default: '/opt/cni/bin/ambit-cni', help: 'The ambit-cni binary to install', parse: absolute },
  binDir: { env: 'AMBIT_CNI_BIN_DIR', default: '/host/opt/cni/bin', help: "The host's CNI plugin directory (mounted)", parse: absolute },
  confDir: { env: 'AMBIT_CNI_CONF_DIR', default: '/host/etc/cni/net.d', help: "The host's CNI config directory (mounted)", parse: absolute },
  enrollmentSocket: { env: 'AMBIT_ENROLLMENT_SOCKET', default: '/var/run/ambit/enrollment.sock', help: "The agent's enrollment socket on the host (ambit-cni's socketPath)", parse: absolute },
  recordDir: { env: 'AMBIT_CNI_RECORD_DIR', default: '/var/run/ambit/cni-pods', help: "ambit-cni's pod records on the host (the agent's --cni-record-dir)", parse: absolute },
  excludeNamespaces: { env: 'AMBIT_CNI_EXCLUDE_NAMESPACES', default: 'kube-system', help: 'Namespaces whose pods start without an agent, comma-separated', parse: namespaces },
  removeOnStop: {
    env: 'AMBIT_CNI_REMOVE_ON_STOP',
    default: 'auto',
    help: 'On SIGTERM remove the chained entry and the binary: auto (only when --daemon-set is deleted), always, never',
    parse: removeOnStop,
  },
  daemonSet: { env: 'AMBIT_CNI_DAEMONSET', default: '', help: '<namespace>/<name> of the DaemonSet running the installer; required with --remove-on-stop auto', parse: namespacedName },
  kubeconfig: { env: 'AMBIT_KUBECONFIG', default: '', help: "kubeconfig for the DaemonSet check ('' = $KUBECONFIG, ~/.kube/config, or the pod's service account)", parse: optionalFile },
  resyncSeconds: { env: 'AMBIT_CNI_RESYNC_SECONDS', default: '30', help: 'Seconds between full checks of the binary and the chain (the directory is also watched)', parse: wholeNumber(1, 3600, 'seconds') },
  logLevel: { env: 'AMBIT_LOG_LEVEL', default: 'info', help: 'Log level', parse: logLevel },
};

/** Builds the settings from flags (camelCase keys) over the environment; CniInstallError SETTINGS when invalid. */
export function loadCniInstallSettings(
  flags: Partial<Record<keyof CniInstallSettings, string | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): CniInstallSettings {
  try {
    const s = loadSettings(CNI_INSTALL_DECLARATIONS, flags, env);
    if (s.removeOnStop === 'auto' && s.daemonSet === '') {
      throw new SettingError('daemonSet', 'daemonSet is required with removeOnStop auto: pass --daemon-set <namespace>/<name> or set AMBIT_CNI_DAEMONSET (or --remove-on-stop always|never)');
    }
    return s;
  } catch (e) {
    if (e instanceof SettingError) throw new CniInstallError(CniInstallErrorCodes.SETTINGS, e.message);
    throw e;
  }
}
