/**
 * A Helm chart directory as the renderer reads it: Chart.yaml (apiVersion v2), values.yaml,
 * values.schema.json, templates/ (files starting with `_` only hold defines; NOTES.txt is not a
 * manifest) and crds/ (plain YAML, never templated, installed only when absent — Helm's rule).
 */
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../common/project-root';
import { InstallError, InstallErrorCodes } from './errors';
import type { ParsedTemplate } from './template/ast';
import { parseTemplate } from './template/parser';
import { isDict, type Dict } from './template/values';
import { parseYaml } from './template/yaml-functions';

export interface ChartFile {
  /** Path inside the chart, e.g. templates/agent-daemonset.yaml. */
  readonly path: string;
  readonly text: string;
}

export interface Chart {
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly appVersion: string;
  readonly description: string;
  readonly values: Dict;
  readonly schema: object | undefined;
  /** Parsed templates/ files, in path order; `_*` files included (their defines). */
  readonly templates: readonly ParsedTemplate[];
  readonly crds: readonly ChartFile[];
}

/** charts/ambit in this checkout. */
export const defaultChartDir = (): string => path.join(projectRoot(), 'charts', 'ambit');

const chartError = (dir: string, what: string, cause?: unknown): InstallError =>
  new InstallError(InstallErrorCodes.CHART, `chart ${dir}: ${what}`, { cause });

function readText(file: string, dir: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw chartError(dir, `cannot read ${path.relative(dir, file) || file}: ${(e as Error).message}`, e);
  }
}

/** Files below `sub` whose names end in one of `exts`, as chart-relative paths in sorted order. */
function listFiles(dir: string, sub: string, exts: readonly string[]): string[] {
  const root = path.join(dir, sub);
  if (!fs.existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (exts.some((x) => e.name.endsWith(x))) out.push(path.relative(dir, p).split(path.sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}

export function loadChart(dir: string): Chart {
  if (!fs.existsSync(path.join(dir, 'Chart.yaml'))) throw chartError(dir, 'no Chart.yaml here; pass --chart <dir> pointing at charts/ambit');
  let meta: unknown;
  try {
    meta = parseYaml(readText(path.join(dir, 'Chart.yaml'), dir));
  } catch (e) {
    if (e instanceof InstallError) throw e;
    throw chartError(dir, `Chart.yaml is not valid YAML: ${(e as Error).message}`, e);
  }
  if (!isDict(meta) || meta.apiVersion !== 'v2' || typeof meta.name !== 'string' || typeof meta.version !== 'string') {
    throw chartError(dir, 'Chart.yaml needs apiVersion: v2, a name and a version');
  }
  let values: unknown = {};
  const valuesFile = path.join(dir, 'values.yaml');
  if (fs.existsSync(valuesFile)) {
    try {
      values = parseYaml(readText(valuesFile, dir)) ?? {};
    } catch (e) {
      throw chartError(dir, `values.yaml is not valid YAML: ${(e as Error).message}`, e);
    }
    if (!isDict(values)) throw chartError(dir, 'values.yaml must be a map');
  }
  let schema: object | undefined;
  const schemaFile = path.join(dir, 'values.schema.json');
  if (fs.existsSync(schemaFile)) {
    try {
      schema = JSON.parse(readText(schemaFile, dir)) as object;
    } catch (e) {
      if (e instanceof InstallError) throw e;
      throw chartError(dir, `values.schema.json is not valid JSON: ${(e as Error).message}`, e);
    }
  }
  const templates = listFiles(dir, 'templates', ['.yaml', '.yml', '.tpl']).map((p) => parseTemplate(readText(path.join(dir, p), dir), p));
  const crds = listFiles(dir, 'crds', ['.yaml', '.yml']).map((p) => ({ path: p, text: readText(path.join(dir, p), dir) }));
  return {
    dir,
    name: meta.name,
    version: meta.version,
    appVersion: typeof meta.appVersion === 'string' ? meta.appVersion : meta.version,
    description: typeof meta.description === 'string' ? meta.description : '',
    values: values as Dict,
    schema,
    templates,
    crds,
  };
}
