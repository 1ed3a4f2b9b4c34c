/**
 * What the chart tests share: rendering charts/ambit with a values file, and checking a rendered
 * object against the Kubernetes API the way a cluster would.
 *
 * - kubernetes-models 4.5.1 holds the Kubernetes 1.33.0 OpenAPI schemas (types, required fields,
 *   enums); kubernetes-models 5.1.0 (installed as kubernetes-models-v1.36) the 1.36.0 ones, ESM
 *   only, so test/integration/install-command.test.ts checks those in a child process.
 * - Those schemas allow unknown fields, which `kubectl apply` (strict field validation) refuses:
 *   unknownFields() walks the object against @kubernetes/client-node's models (Kubernetes 1.34
 *   OpenAPI) and names every field the API does not have.
 * - Kinds that are not Kubernetes' own: Gateway and GatewayClass with the control plane's
 *   validator / the GatewayClass schema, ServiceMonitor with servicemonitor.schema.json (the
 *   Prometheus Operator fields the chart uses).
 */
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { projectRoot } from '../../common/project-root';
import { loadChart } from '../../cli/install/chart';
import { renderChart, type Manifest } from '../../cli/install/render-chart';
import { mergeValues, readValuesFile } from '../../cli/install/values';
import { formatIssue, validateObject } from '../../control-plane/validation/validate-object';
import { schemaLibrary } from '../../cli/install/crd-generate';
import { addAmbitFormats } from '../../control-plane/validation/formats';

export const ROOT = projectRoot();
export const CHART_DIR = path.join(ROOT, 'charts', 'ambit');
export const ciValues = (name: string): string => path.join(CHART_DIR, 'ci', name);

/** The chart rendered like `ambit install -f <valuesFile>` (none: the defaults). */
export function render(valuesFile?: string, release = 'ambit', namespace = 'ambit-system'): Manifest[] {
  const chart = loadChart(CHART_DIR);
  const values = valuesFile ? mergeValues(chart.values, readValuesFile(valuesFile)) : chart.values;
  return renderChart(chart, { values, releaseName: release, namespace });
}

export const find = (ms: readonly Manifest[], kind: string, name?: string): Manifest => {
  const m = ms.find((x) => x.object.kind === kind && (name === undefined || x.object.metadata.name === name));
  if (m === undefined) throw new Error(`no ${kind}${name ? ` ${name}` : ''} rendered`);
  return m;
};

/** kubernetes-models module path of a built-in kind: v1/Pod, apps/v1/DaemonSet, rbac.authorization.k8s.io/v1/Role. */
export const modelPath = (apiVersion: string, kind: string): string => `${apiVersion}/${kind}`;

const BUILTIN_GROUPS = new Set(['v1', 'apps', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io', 'coordination.k8s.io', 'policy']);
export const isBuiltin = (apiVersion: string): boolean => BUILTIN_GROUPS.has(apiVersion.includes('/') ? apiVersion.split('/')[0] : apiVersion);

/** Problems of `obj` against the Kubernetes 1.33 OpenAPI schema (kubernetes-models 4.5.1); [] = valid. */
export function k8s133Problems(obj: { apiVersion: string; kind: string }): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(`kubernetes-models/${modelPath(obj.apiVersion, obj.kind)}`) as Record<string, new (o: unknown) => { validate(): void }>;
  const Model = mod[obj.kind];
  if (Model === undefined) return [`kubernetes-models has no ${obj.apiVersion} ${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: Array<{ instancePath: string; message?: string }> }).errors;
    return errors ? errors.map((x) => `${x.instancePath || '/'}: ${x.message}`) : [(e as Error).message];
  }
}

interface AttributeType {
  baseName: string;
  type: string;
}
type Model = { getAttributeTypeMap(): AttributeType[] };
const MODELS = k8s as unknown as Record<string, Model | undefined>;

/** Fields of `value` the Kubernetes API (as @kubernetes/client-node models it) does not have. */
export function unknownFields(value: unknown, type: string, at = ''): string[] {
  if (value === null || value === undefined) return [];
  const list = /^Array<(.+)>$/.exec(type);
  if (list) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, list[1], `${at}[${i}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return typeof value === 'object' ? Object.entries(value as object).flatMap(([k, v]) => unknownFields(v, map[1], `${at}.${k}`)) : [];
  const model = MODELS[type];
  if (model === undefined || typeof model.getAttributeTypeMap !== 'function' || typeof value !== 'object' || Array.isArray(value)) return [];
  const known = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value as object).flatMap(([k, v]) => {
    const t = known.get(k);
    return t === undefined ? [`${at}.${k}`] : unknownFields(v, t, `${at}.${k}`);
  });
}

/** The client-node model name of a built-in kind (V1DaemonSet, V1CustomResourceDefinition, ...). */
export const modelName = (apiVersion: string, kind: string): string => `${(apiVersion.split('/').pop() ?? '').replace(/^v/, 'V')}${kind}`;

let ajv: Ajv | undefined;
const chartSchemaValidator = (file: string) => {
  if (ajv === undefined) {
    ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv, ['date-time']);
    addAmbitFormats(ajv);
  }
  const lib = schemaLibrary();
  for (const f of ['defs.schema.json', 'gateway-api-defs.schema.json']) if (!ajv.getSchema(`https://ambit.dev/schemas/${f}`)) ajv.addSchema(lib.load(f));
  const schema = lib.load(file) as { $id: string };
  return ajv.getSchema(schema.$id) ?? ajv.compile(schema);
};

/** Every problem of a rendered object, as "<kind>/<name> <path>: <message>"; [] = valid. */
export function problems(m: Manifest): string[] {
  const o = m.object;
  const tag = `${o.kind}/${o.metadata.name}`;
  let found: string[];
  if (isBuiltin(o.apiVersion)) {
    found = [...k8s133Problems(o), ...unknownFields(o, modelName(o.apiVersion, o.kind)).map((f) => `${f}: unknown field`)];
  } else if (o.kind === 'Gateway') {
    found = validateObject(o).map(formatIssue);
  } else if (o.kind === 'GatewayClass' || o.kind === 'ServiceMonitor') {
    const validate = chartSchemaValidator(`${o.kind.toLowerCase()}.schema.json`);
    found = validate(o) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}`);
  } else {
    found = [`no validator for ${o.apiVersion} ${o.kind}`];
  }
  return found.map((p) => `${tag} ${p}`);
}
