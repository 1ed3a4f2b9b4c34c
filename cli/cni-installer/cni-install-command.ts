// `ambit cni-install`: the CNI installer the agent DaemonSet runs as a container (docs/install.md).
// Every flag maps to one declared setting in cli/cni-installer/settings.ts, which names its
// environment variable.
import type { CommandModule } from 'yargs';
import { declareFlags, flagsOf } from '../../common/settings/cli-flags';
import { CniInstallError } from './errors';
import { runCniInstaller } from './run-cni-installer';
import { CNI_INSTALL_DECLARATIONS, loadCniInstallSettings } from './settings';

export const cniInstallCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'cni-install',
  describe: "Keep the ambit-cni plugin chained in this node's CNI config until stopped; remove it when the agent DaemonSet is deleted",
  builder: (y) => declareFlags(y, CNI_INSTALL_DECLARATIONS) as never,
  handler: async (argv) => {
    try {
      process.exitCode = await runCniInstaller(loadCniInstallSettings(flagsOf(argv, CNI_INSTALL_DECLARATIONS)));
    } catch (err) {
      if (!(err instanceof CniInstallError)) throw err;
      console.error(`ambit cni-install: ${err.message} (${err.code})`);
      process.exitCode = 2;
    }
  },
};
