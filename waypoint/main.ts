/**
 * ambit-waypoint: the waypoint's entry point (also `ambit waypoint`). Flags and environment
 * variables are declared in config.ts. SIGTERM drains (requests finish until
 * AMBIT_DRAIN_TIMEOUT_MS), SIGINT or a second signal closes at once. Exit codes: 0 after a clean
 * stop, 2 for a bad setting, 1 when start-up fails (the message says what to do).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createLogger } from '../common/log';
import { runService } from '../common/settings/service-main';
import { declareFlags, flagsOf } from '../common/settings/cli-flags';
import { loadWaypointConfig, WAYPOINT_DECLARATIONS, type WaypointConfig } from './config';
import { WaypointError, WaypointErrorCodes } from './errors';
import { Waypoint } from './waypoint';

export function runWaypoint(settings: WaypointConfig): Promise<number> {
  const log = createLogger('waypoint', { level: settings.logLevel });
  return runService('waypoint', log, () => Waypoint.start(settings, log));
}

export function parseWaypointArgs(argv: string[]): WaypointConfig {
  const parsed = declareFlags(yargs(argv).scriptName('ambit-waypoint').usage('$0 [flags]\n\nThe Ambit waypoint (L7 proxy).'), WAYPOINT_DECLARATIONS)
    .strict()
    .help()
    .parseSync();
  return loadWaypointConfig(flagsOf(parsed as Record<string, unknown>, WAYPOINT_DECLARATIONS));
}

if (require.main === module) {
  let settings: WaypointConfig;
  try {
    settings = parseWaypointArgs(hideBin(process.argv));
  } catch (err) {
    if (!(err instanceof WaypointError) || err.code !== WaypointErrorCodes.INVALID_OPTION) throw err;
    console.error(`ambit-waypoint: ${err.message} (${err.code})`);
    process.exit(2);
  }
  void runWaypoint(settings).then((code) => {
    process.exitCode = code;
    // Lingering handles (keep-alive sockets being torn down) must not keep a stopped waypoint alive.
    setTimeout(() => process.exit(code), 2000).unref();
  });
}
