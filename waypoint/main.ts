/**
 * ambit-waypoint: the waypoint's entry point (also `ambit waypoint`). Flags and environment
 * variables are declared in config.ts. SIGTERM drains (requests finish until
 * AMBIT_DRAIN_TIMEOUT_MS), SIGINT or a second signal closes at once. Exit codes: 0 after a clean
 * stop, 2 for a bad setting, 1 when start-up fails (the message says what to do).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createLogger } from '../common/log';
import { declareFlags, flagsOf } from '../common/settings/cli-flags';
import { loadWaypointConfig, WAYPOINT_DECLARATIONS, type WaypointConfig } from './config';
import { WaypointError, WaypointErrorCodes } from './errors';
import { Waypoint } from './waypoint';

export async function runWaypoint(settings: WaypointConfig): Promise<number> {
  const log = createLogger('waypoint', { level: settings.logLevel });
  let waypoint: Waypoint;
  try {
    waypoint = await Waypoint.start(settings, log);
  } catch (err) {
    log.fatal({ err }, `waypoint failed to start: ${(err as Error).message}`);
    log.flush();
    return 1;
  }
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      log.info({ signal }, signals > 1 || signal === 'SIGINT' ? 'stopping now' : 'draining, then stopping');
      if (signals > 1 || signal === 'SIGINT') return resolve();
      void waypoint.drain().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await waypoint.close();
  log.info('waypoint stopped');
  log.flush();
  return 0;
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
