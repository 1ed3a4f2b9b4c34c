// `ambit waypoint`: a waypoint (L7 proxy) as its own process (waypoint/main.ts; also installed as
// `ambit-waypoint`). Every flag maps to one declared setting in waypoint/config.ts, which also
// names its environment variable.
import type { CommandModule } from 'yargs';
import { declareFlags, flagsOf } from '../common/settings/cli-flags';
import { loadWaypointConfig, WAYPOINT_DECLARATIONS } from '../waypoint/config';
import { WaypointError } from '../waypoint/errors';
import { runWaypoint } from '../waypoint/main';

export const waypointCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'waypoint',
  describe: 'Run a waypoint: the L7 proxy (HTTPRoute/GRPCRoute, retries, L7 authorization, JWT) for services bound to it',
  builder: (y) => declareFlags(y, WAYPOINT_DECLARATIONS) as never,
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
