// Structured JSON logs (one line per event) for every Ambit program, through pino.
// AMBIT_LOG_LEVEL sets the starting level; components get child loggers named after themselves.
import pino, { Logger, DestinationStream } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stderr by default so stdout stays free for a command's own output. */
  destination?: DestinationStream | NodeJS.WritableStream;
}

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

function levelFromEnv(): LogLevel {
  const v = process.env.AMBIT_LOG_LEVEL;
  if (v === undefined || v === '') return 'info';
  if (!isLogLevel(v)) {
    throw new Error(`AMBIT_LOG_LEVEL="${v}" is not a log level; use one of ${LOG_LEVELS.join(', ')}`);
  }
  return v;
}

/** A root logger for program `name` (control-plane, agent, waypoint, cli). */
export function createLogger(name: string, opts: LoggerOptions = {}): Logger {
  return pino(
    {
      name,
      level: opts.level ?? levelFromEnv(),
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    (opts.destination as DestinationStream | undefined) ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything: for library use and tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
