/**
 * Checks the final values against the chart's values.schema.json before anything is rendered, as
 * Helm does, with every problem named by its key path: `agent.capabilites: unknown key
 * "capabilites"; allowed: ...`. The schema forbids unknown keys everywhere (STYLE.md 4), so a
 * misspelt value fails instead of being silently ignored.
 */
import Ajv, { type ErrorObject } from 'ajv';
import { InstallError, InstallErrorCodes } from './errors';

export function validateValues(schema: object, values: unknown, chartName: string): void {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
  let validate;
  try {
    validate = ajv.compile(schema);
  } catch (e) {
    throw new InstallError(InstallErrorCodes.CHART, `chart ${chartName}: values.schema.json is not a valid schema: ${(e as Error).message}`, { cause: e });
  }
  if (validate(values)) return;
  const problems = [...new Set((validate.errors ?? []).map(describe))];
  throw new InstallError(
    InstallErrorCodes.VALUES,
    `values do not meet chart ${chartName}'s values.schema.json:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
}

/** "agent.resources.limits" from "/agent/resources/limits" ("(root)" for the top). */
export const keyPath = (pointer: string): string =>
  pointer === ''
    ? '(root)'
    : pointer
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
        .map((s, i) => (/^[0-9]+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
        .join('');

function describe(e: ErrorObject): string {
  const at = keyPath(e.instancePath);
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    const full = e.instancePath === '' ? key : `${at}.${key}`;
    const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    return `${full}: unknown key "${key}"${allowed.length ? `; allowed here: ${allowed.join(', ')}` : ''}`;
  }
  if (e.keyword === 'enum') return `${at}: ${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${at}: ${e.message ?? e.keyword}`;
}
