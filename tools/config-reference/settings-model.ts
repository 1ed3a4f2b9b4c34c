/**
 * The settings each long-running process declares (flag, environment variable, default, help),
 * read from the declarations themselves. What a setting accepts comes from its own parser: it is
 * handed a value no parser takes, and the SettingError it throws says what to use instead — the
 * same words an operator sees at start-up. A parser that takes anything does not check the value.
 */
import { AGENT_DECLARATIONS } from '../../agent/config';
import { CONFIG_DECLARATIONS } from '../../control-plane/config';
import { DATA_PLANE_DECLARATIONS } from '../../common/settings/data-plane-settings';
import { kebab, SettingError, type Declared } from '../../common/settings/declared-settings';
import { WAYPOINT_DECLARATIONS } from '../../waypoint/config';

export interface SettingRow {
  readonly key: string;
  readonly flag: string;
  readonly env: string;
  /** undefined: required. */
  readonly default: string | undefined;
  readonly help: string;
  /** What the parser accepts, in its own words; undefined when it takes any value. */
  readonly accepts: string | undefined;
  /** Declared once in common/settings/data-plane-settings.ts for both the agent and the waypoint. */
  readonly shared: boolean;
}

export interface ProcessSettings {
  readonly id: string;
  readonly title: string;
  /** How to run it. */
  readonly commands: readonly string[];
  /** Where its settings are declared. */
  readonly source: string;
  /** Its detailed doc, relative to docs/. */
  readonly doc: string;
  readonly rows: readonly SettingRow[];
}

/** No parser takes this: not a number, boolean, address, DNS name, URL or level. */
const PROBE = '?';

function accepts(decl: Declared<unknown>, key: string): string | undefined {
  try {
    decl.parse(PROBE, key);
    return undefined;
  } catch (e) {
    if (!(e instanceof SettingError)) throw e;
    const why = e.message.replace(`${key}="${PROBE}" `, '').replace(/^is invalid: /, '');
    const use = why.indexOf('use ');
    return (use < 0 ? why : why.slice(use + 'use '.length)).replace(/ or use /g, ' or ');
  }
}

function rows(declarations: Record<string, Declared<unknown>>): SettingRow[] {
  return Object.entries(declarations).map(([key, decl]) => ({
    key,
    flag: `--${kebab(key)}`,
    env: decl.env,
    default: decl.default,
    help: decl.help,
    accepts: accepts(decl, key),
    shared: key in DATA_PLANE_DECLARATIONS && (DATA_PLANE_DECLARATIONS as Record<string, Declared<unknown>>)[key] === decl,
  }));
}

export function processSettings(): ProcessSettings[] {
  return [
    {
      id: 'agent',
      title: 'Node agent',
      commands: ['ambit agent', 'ambit-agent'],
      source: 'agent/config.ts',
      doc: 'agent.md',
      rows: rows(AGENT_DECLARATIONS as unknown as Record<string, Declared<unknown>>),
    },
    {
      id: 'waypoint',
      title: 'Waypoint',
      commands: ['ambit waypoint', 'ambit-waypoint'],
      source: 'waypoint/config.ts',
      doc: 'waypoint.md',
      rows: rows(WAYPOINT_DECLARATIONS as unknown as Record<string, Declared<unknown>>),
    },
    {
      id: 'control-plane',
      title: 'Control plane',
      commands: ['ambit control-plane'],
      source: 'control-plane/config.ts',
      doc: 'control-plane.md',
      rows: rows(CONFIG_DECLARATIONS as unknown as Record<string, Declared<unknown>>),
    },
  ];
}
