/**
 * `helm template` for one chart: values checked against values.schema.json, every template
 * rendered with .Values / .Release / .Chart, the output split into YAML documents, each parsed and
 * checked to be a Kubernetes object, CRDs (crds/) first, then Helm's install order by kind.
 */
import { InstallError, InstallErrorCodes } from './errors';
import type { Chart } from './chart';
import { TemplateSet } from './template/evaluate';
import { GoStruct, isDict, type Dict } from './template/values';
import { parseYaml } from './template/yaml-functions';
import { validateValues } from './values-schema';

export interface RenderOptions {
  /** The final values (chart defaults already merged with the user's). */
  readonly values: Dict;
  readonly releaseName: string;
  readonly namespace: string;
  /** Leave crds/ out (Helm's --skip-crds). */
  readonly skipCrds?: boolean;
}

export interface Manifest {
  /** `<chart>/templates/x.yaml` or `<chart>/crds/x.yaml`, as `helm template` prints it. */
  readonly source: string;
  /** The document as rendered (YAML text, no `---`). */
  readonly text: string;
  readonly object: Dict & { apiVersion: string; kind: string; metadata: Dict & { name: string } };
  readonly isCrd: boolean;
}

/** Helm's InstallOrder (pkg/releaseutil/kind_sorter.go), the kinds this chart can produce among them. */
const INSTALL_ORDER = [
  'Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodSecurityPolicy', 'PodDisruptionBudget', 'ServiceAccount',
  'Secret', 'SecretList', 'ConfigMap', 'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim', 'CustomResourceDefinition',
  'ClusterRole', 'ClusterRoleList', 'ClusterRoleBinding', 'ClusterRoleBindingList', 'Role', 'RoleList', 'RoleBinding',
  'RoleBindingList', 'Service', 'DaemonSet', 'Pod', 'ReplicationController', 'ReplicaSet', 'Deployment', 'HorizontalPodAutoscaler',
  'StatefulSet', 'Job', 'CronJob', 'IngressClass', 'Ingress', 'APIService',
];

const rank = (kind: string): number => {
  const i = INSTALL_ORDER.indexOf(kind);
  return i === -1 ? INSTALL_ORDER.length : i;
};

/** Release names are DNS labels short enough for "<release>-control-plane" (Helm allows 53). */
const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$/;

export function renderChart(chart: Chart, opts: RenderOptions): Manifest[] {
  if (!RELEASE_NAME.test(opts.releaseName)) {
    throw new InstallError(InstallErrorCodes.VALUES, `release name "${opts.releaseName}" is invalid: use at most 53 lowercase letters, digits or '-'`);
  }
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(opts.namespace)) {
    throw new InstallError(InstallErrorCodes.VALUES, `namespace "${opts.namespace}" is not a DNS-1123 label`);
  }
  if (chart.schema !== undefined) validateValues(chart.schema, opts.values, chart.name);

  const set = new TemplateSet();
  for (const t of chart.templates) set.add(t);
  const chartObj = new GoStruct('*chart.Metadata', {
    Name: chart.name,
    Version: chart.version,
    AppVersion: chart.appVersion,
    Description: chart.description,
  });
  const release = new GoStruct('chartutil.Release', {
    Name: opts.releaseName,
    Namespace: opts.namespace,
    // Helm says "Helm"; the managed-by label then tells which tool rendered the objects.
    Service: 'ambit',
    IsInstall: true,
    IsUpgrade: false,
    Revision: 1,
  });
  const out: Manifest[] = [];
  if (!opts.skipCrds) for (const crd of chart.crds) out.push(...documents(`${chart.name}/${crd.path}`, crd.text, true));
  for (const t of chart.templates) {
    const base = t.file.split('/').pop() ?? t.file;
    if (base.startsWith('_') || base === 'NOTES.txt') continue;
    const context = new GoStruct(
      'chartutil.Values',
      { Values: opts.values, Release: release, Chart: chartObj, Template: new GoStruct('chartutil.Template', { Name: `${chart.name}/${t.file}`, BasePath: `${chart.name}/templates` }) },
      {
        Files: `.Files is not supported by ambit's chart renderer; put the content in values or in the template`,
        Capabilities: `.Capabilities is not supported by ambit's chart renderer; the chart must not depend on the cluster it is rendered for`,
      },
    );
    out.push(...documents(`${chart.name}/${t.file}`, set.render(t, context), false));
  }
  // CRDs first (Helm installs crds/ before anything), then by kind, stable within a kind.
  return out
    .map((m, i) => ({ m, i }))
    .sort((a, b) => Number(b.m.isCrd) - Number(a.m.isCrd) || rank(a.m.object.kind) - rank(b.m.object.kind) || a.i - b.i)
    .map(({ m }) => m);
}

/** The non-empty YAML documents of one rendered file, each a Kubernetes object. */
function documents(source: string, text: string, isCrd: boolean): Manifest[] {
  const out: Manifest[] = [];
  text.split(/^---[ \t]*$/m).forEach((doc, index) => {
    const body = doc.replace(/^\n+/, '').replace(/\s+$/, '');
    if (body.split('\n').every((l) => l.trim() === '' || l.trim().startsWith('#'))) return;
    const where = `${source} document ${index + 1}`;
    let object: unknown;
    try {
      object = parseYaml(body);
    } catch (e) {
      throw new InstallError(InstallErrorCodes.MANIFEST, `${where} is not valid YAML (${(e as Error).message.split('\n')[0]}):\n${numbered(body)}`, { cause: e });
    }
    if (!isDict(object) || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || !isDict(object.metadata) || typeof object.metadata.name !== 'string') {
      throw new InstallError(InstallErrorCodes.MANIFEST, `${where} is not a Kubernetes object (apiVersion, kind and metadata.name are needed):\n${numbered(body)}`);
    }
    out.push({ source, text: body, object: object as Manifest['object'], isCrd });
  });
  return out;
}

const numbered = (text: string): string =>
  text
    .split('\n')
    .map((l, i) => `${String(i + 1).padStart(4)} | ${l}`)
    .join('\n');

/** The manifests as one multi-document YAML stream, each with its `# Source:` line (`helm template`'s form). */
export function manifestStream(manifests: readonly Manifest[]): string {
  return manifests.map((m) => `---\n# Source: ${m.source}\n${m.text}\n`).join('');
}
