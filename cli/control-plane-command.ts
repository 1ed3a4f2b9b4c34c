// `ambit control-plane`: the control plane as its own process (control-plane/main.ts). Every flag
// maps to one declared option in control-plane/config.ts, which also names its environment variable.
import type { CommandModule } from 'yargs';
import { CONFIG_DECLARATIONS, ControlPlaneConfig, kebab, loadControlPlaneConfig } from '../control-plane/config';
import { ControlPlaneError } from '../control-plane/errors';
import { runControlPlane } from '../control-plane/main';

type Flags = Partial<Record<keyof ControlPlaneConfig, string>>;

export const controlPlaneCommand: CommandModule<object, Flags> = {
  command: 'control-plane',
  describe: 'Run the control plane: serve a watched YAML directory to agents and waypoints, sign their certificates',
  builder: (y) => {
    let out = y;
    for (const [key, decl] of Object.entries(CONFIG_DECLARATIONS)) {
      const def = decl.default === undefined ? '' : ` (default ${decl.default})`;
      out = out.option(kebab(key), { type: 'string', describe: `${decl.help}; env ${decl.env}${def}` });
    }
    return out as never;
  },
  handler: async (argv) => {
    try {
      const flags: Flags = {};
      for (const key of Object.keys(CONFIG_DECLARATIONS) as Array<keyof ControlPlaneConfig>) flags[key] = argv[key];
      process.exitCode = await runControlPlane(loadControlPlaneConfig(flags));
    } catch (err) {
      if (!(err instanceof ControlPlaneError)) throw err;
      console.error(`ambit control-plane: ${err.message} (${err.code})`);
      process.exitCode = 2;
    }
  },
};
