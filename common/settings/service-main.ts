/**
 * The life of a long-running Ambit process (agent, waypoint), in one place: start it, then wait
 * for a signal — SIGTERM drains (the service finishes in-flight work until its deadline), SIGINT
 * or a second signal stops at once — then close. Exit codes: 0 after a clean stop, 1 when start-up
 * fails (the log's fatal line says what to do).
 */
import type { Logger } from '../log';

export interface DrainableService {
  drain(): Promise<void>;
  close(): Promise<void>;
}

export async function runService(name: string, log: Logger, start: () => Promise<DrainableService>): Promise<number> {
  let service: DrainableService;
  try {
    service = await start();
  } catch (err) {
    log.fatal({ err }, `${name} failed to start: ${(err as Error).message}`);
    log.flush();
    return 1;
  }
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      log.info({ signal }, signals > 1 || signal === 'SIGINT' ? 'stopping now' : 'draining, then stopping');
      if (signals > 1 || signal === 'SIGINT') return resolve();
      void service.drain().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await service.close();
  log.info(`${name} stopped`);
  log.flush();
  return 0;
}
