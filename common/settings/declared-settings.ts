/**
 * Settings declared once: each key's environment variable, default, help text and parser. A
 * program (control plane, agent, waypoint) lists its declarations at the top of its config.ts;
 * `loadSettings` layers CLI flags over the environment over defaults, parses every value, and
 * returns a frozen object. A bad or missing value fails start-up naming the key, the value and what
 * to use, through the program's own error type.
 */
import net from 'node:net';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../log';

export interface Declared<V> {
  env: string;
  /** undefined: required. */
  default: string | undefined;
  help: string;
  parse(value: string, key: string): V;
}

export type Declarations<C> = { [K in keyof C]: Declared<C[K]> };

/** Thrown by parsers; each program maps it to its own typed error. */
export class SettingError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'SettingError';
  }
}

export const invalidSetting = (key: string, value: string, what: string): SettingError =>
  new SettingError(key, `${key}="${value}" is invalid: ${what}`);

export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Flags (camelCase keys, already parsed by the CLI) over the environment over the defaults. */
export function loadSettings<C>(
  declarations: Declarations<C>,
  flags: Partial<Record<keyof C, string | number | boolean | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<C> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(declarations) as Array<keyof C & string>) {
    const decl = declarations[key] as Declared<unknown>;
    const flag = flags[key];
    const fromEnv = env[decl.env];
    const raw = flag !== undefined ? String(flag) : fromEnv !== undefined && fromEnv !== '' ? fromEnv : decl.default;
    if (raw === undefined) throw new SettingError(key, `${key} is required: pass --${kebab(key)} or set ${decl.env}`);
    out[key] = decl.parse(raw, key);
  }
  return Object.freeze(out) as unknown as Readonly<C>;
}

// ---- parsers shared by the programs' declarations

export const text = (v: string): string => v;

export const wholeNumber =
  (min: number, max: number, unit = '') =>
  (v: string, key: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw invalidSetting(key, v, `use a whole number${unit ? ` of ${unit}` : ''}, ${min}-${max}`);
    }
    return n;
  };

export const boolean = (v: string, key: string): boolean => {
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  throw invalidSetting(key, v, 'use true or false');
};

export const dnsName = (v: string, key: string): string => {
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(v)) throw invalidSetting(key, v, 'use a lowercase DNS name, e.g. cluster.local');
  return v;
};

export const logLevel = (v: string, key: string): LogLevel => {
  if (!isLogLevel(v)) throw invalidSetting(key, v, `use one of ${LOG_LEVELS.join(', ')}`);
  return v;
};

export interface ListenAddress {
  host: string;
  port: number;
}

/** "127.0.0.1:15012", "[::1]:15012" or ":15012" (all interfaces); port 0 = any free port. */
export function parseListenAddress(key: string, value: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(value.trim());
  const port = m === null ? NaN : Number(m[3]);
  const host = m === null ? '' : m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]);
  if (m === null || port > 65535 || (m[1] !== undefined && net.isIPv6(host) === false)) {
    throw new SettingError(key, `${key}="${value}" is not a listen address; use host:port, e.g. 127.0.0.1:15012, [::1]:15012 or :15012`);
  }
  return { host, port };
}

export const listenAddress = (v: string, key: string): string => (parseListenAddress(key, v), v);

export const formatAddress = (a: ListenAddress): string => (net.isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
