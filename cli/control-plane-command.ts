// `ambit control-plane`: the control plane as its own process (control-plane/main.ts). Every flag
// maps to one declared option in control-plane/config.ts, which also names its environment variable.
import type { CommandModule } from 'yargs';
import { declareFlags, flagsOf } from '../common/settings/cli-flags';
import { CONFIG_DECLARATIONS, loadControlPlaneConfig } from '../control-plane/config';
import { ControlPlaneError } from '../control-plane/errors';
import { runControlPlane } from '../control-plane/main';

export const controlPlaneCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'control-plane',
  describe: 'Run the control plane: serve a watched YAML directory to agents and waypoints, sign their certificates',
  builder: (y) => declareFlags(y, CONFIG_DECLARATIONS) as never,
  handler: async (argv) => {
    try {
      process.exitCode = await runControlPlane(loadControlPlaneConfig(flagsOf(argv, CONFIG_DECLARATIONS)));
    } catch (err) {
      if (!(err instanceof ControlPlaneError)) throw err;
      console.error(`ambit control-plane: ${err.message} (${err.code})`);
      process.exitCode = 2;
    }
  },
};
