/**
 * Declared settings as command-line flags: one --kebab-case string flag per key, its help naming
 * the environment variable and default, and the parsed argv turned back into camelCase flags for
 * loadSettings. The control plane and the agent share this.
 */
import type { Argv } from 'yargs';
import { kebab, type Declarations } from './declared-settings';

export function declareFlags<C, T>(y: Argv<T>, declarations: Declarations<C>): Argv<T> {
  let out = y;
  for (const [key, decl] of Object.entries(declarations) as Array<[string, { env: string; default: string | undefined; help: string }]>) {
    const def = decl.default === undefined ? ' (required)' : decl.default === '' ? '' : ` (default ${decl.default})`;
    out = out.option(kebab(key), { type: 'string', describe: `${decl.help}; env ${decl.env}${def}` }) as unknown as Argv<T>;
  }
  return out;
}

export function flagsOf<C>(argv: Record<string, unknown>, declarations: Declarations<C>): Partial<Record<keyof C, string>> {
  const flags: Partial<Record<keyof C, string>> = {};
  for (const key of Object.keys(declarations) as Array<keyof C & string>) {
    const v = argv[key];
    if (typeof v === 'string') flags[key] = v;
  }
  return flags;
}
