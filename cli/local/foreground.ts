// Running the runtime in this process: `ambit local up --foreground` in a terminal, and the
// background runtime itself (started by `up` with --progress-fd). Ctrl-C, SIGTERM and SIGHUP stop
// it and remove everything it created; a second signal exits at once (then `ambit local down`
// removes the rest).
import path from 'node:path';
import { createLogger, isLogLevel, type LogLevel } from '../../common/log';
import { YamlDirectorySource } from '../../control-plane/sources/yaml-directory-source';
import { controlPlaneLink } from './control-plane-link';
import { ProgressChannel } from './progress-channel';
import { LocalRuntime } from './runtime';
import type { StatePaths } from './state-dir';
import { renderStatus } from './status-view';
import { waitForPods } from './wait-ready';

export interface ForegroundOptions {
  dir: string;
  paths: StatePaths;
  grpcListen: string;
  httpListen: string;
  /** Seconds to wait for pods to become ready before printing the summary (terminal mode). */
  waitSeconds: number;
  /** Report to the `up` that spawned us over this fd instead of the terminal. */
  progressFd?: number;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function logLevel(background: boolean): LogLevel {
  const v = process.env.AMBIT_LOG_LEVEL;
  if (v !== undefined && isLogLevel(v)) return v;
  // In a terminal the progress lines are the story; the JSON log is for runtime.log.
  return background ? 'info' : 'warn';
}

/** Runs until a signal; resolves with the exit code once everything is removed. */
export async function runForeground(opts: ForegroundOptions): Promise<number> {
  const background = opts.progressFd !== undefined;
  const channel = background ? new ProgressChannel(opts.progressFd!) : undefined;
  const say = (line: string): void => (channel ? channel.send({ type: 'progress', line }) : void process.stdout.write(`  ${line}\n`));
  const logger = createLogger('ambit-local', { level: logLevel(background) });

  let signalled: NodeJS.Signals | undefined;
  let wake: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => (wake = resolve));
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled !== undefined) process.exit(130); // second signal: stop waiting, `down` removes the rest
    signalled = sig;
    logger.info({ signal: sig }, 'stopping');
    wake();
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  // A bug must not leave pods behind: stop (bounded), then exit; `down` handles what is left.
  let runtimeRef: LocalRuntime | undefined;
  process.once('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; stopping');
    process.stderr.write(`ambit local: internal error: ${err.stack ?? err.message}\n`);
    const bail = setTimeout(() => process.exit(70), 15_000);
    void (runtimeRef?.stop() ?? Promise.resolve()).finally(() => {
      clearTimeout(bail);
      process.exit(70);
    });
  });

  let runtime: LocalRuntime;
  try {
    runtime = await LocalRuntime.start({
      dir: path.resolve(opts.dir),
      paths: opts.paths,
      source: new YamlDirectorySource({ dir: opts.dir, logger }),
      controlPlane: controlPlaneLink({ stateDir: opts.paths.controlPlane, grpcListen: opts.grpcListen, httpListen: opts.httpListen, logger }),
      agents: {},
      logger,
      progress: (line) => {
        logger.info(line);
        say(line);
      },
    });
  } catch (err) {
    const message = (err as Error).message;
    logger.error({ err }, 'start-up failed');
    if (channel) channel.send({ type: 'failed', message });
    else process.stderr.write(`ambit local up: ${message}\n`);
    channel?.close();
    return 1;
  }

  runtimeRef = runtime;
  if (signalled !== undefined) {
    // Stopped while starting: report it as such (the `up` that started us is waiting).
    channel?.send({ type: 'failed', message: `stopped by ${signalled} during start-up` });
    channel?.close();
  } else if (channel) {
    channel.send({ type: 'up' });
    channel.close();
  } else {
    const doc = await waitForPods(opts.paths, opts.waitSeconds * 1000, () => signalled !== undefined);
    if (doc !== undefined) for (const line of renderStatus(doc)) process.stdout.write(`${line}\n`);
    process.stdout.write('\nrunning in the foreground; Ctrl-C stops it and removes everything\n');
  }
  await stopRequested;
  try {
    await runtime.stop();
  } catch (err) {
    logger.error({ err }, 'teardown incomplete');
    if (!background) process.stderr.write(`ambit local: ${(err as Error).message}\n`);
    return 1;
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
  }
  logger.info('stopped; everything removed');
  if (!background) process.stdout.write('stopped; everything removed\n');
  return 0;
}
