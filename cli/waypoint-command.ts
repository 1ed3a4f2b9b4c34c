// `ambit waypoint`: with no subcommand, a waypoint (L7 proxy) as its own process (waypoint/main.ts;
// also installed as `ambit-waypoint`; the local runtime's waypoint pods run exactly this). Every
// flag maps to one declared setting in waypoint/config.ts, which also names its environment
// variable. `ambit waypoint apply|list|delete` manage waypoints instead (waypoint/waypoint-commands.ts).
import type { Argv, CommandModule } from 'yargs';
import { declareFlags, flagsOf } from '../common/settings/cli-flags';
import { kebab } from '../common/settings/declared-settings';
import { loadWaypointConfig, WAYPOINT_DECLARATIONS } from '../waypoint/config';
import { WaypointError } from '../waypoint/errors';
import { runWaypoint } from '../waypoint/main';
import { waypointApplyCommand, waypointDeleteCommand, waypointListCommand } from './waypoint/waypoint-commands';

export const waypointCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'waypoint',
  describe: 'Run a waypoint, the L7 proxy (no subcommand); or manage waypoints: `waypoint apply|list|delete`',
  builder: (y) => {
    // The proxy's flags are its own: not global, so `waypoint apply --help` lists only apply's.
    // (yargs 17 takes global(keys, false); its typings only know the one-argument form.)
    const proxyFlags = Object.keys(WAYPOINT_DECLARATIONS).map(kebab);
    const withFlags = declareFlags(y, WAYPOINT_DECLARATIONS) as Argv;
    return (withFlags.global as unknown as (keys: string[], global: boolean) => Argv)
      .call(withFlags, proxyFlags, false)
      .command(waypointApplyCommand as CommandModule)
      .command(waypointListCommand as CommandModule)
      .command(waypointDeleteCommand as CommandModule) as never;
  },
  handler: async (argv) => {
    try {
      process.exitCode = await runWaypoint(loadWaypointConfig(flagsOf(argv, WAYPOINT_DECLARATIONS)));
    } catch (err) {
      if (!(err instanceof WaypointError)) throw err;
      console.error(`ambit waypoint: ${err.message} (${err.code})`);
      process.exitCode = 2;
    }
  },
};
