/**
 * `ambit install`, wired in one place: load the chart -> build the values (chart defaults,
 * --values files, --set) -> check them against values.schema.json -> render -> print the manifests
 * to stdout, write them to a directory, or apply them with kubectl. Progress goes to stderr, so
 * stdout stays a clean YAML stream.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadChart } from './chart';
import { InstallError, InstallErrorCodes } from './errors';
import { apply, existingCrds, waitForCrds, type KubectlOptions } from './kubectl';
import { manifestStream, renderChart, type Manifest } from './render-chart';
import { mergeValues, parseSet, readValuesFile } from './values';

export interface InstallOptions {
  readonly chartDir: string;
  readonly valuesFiles: readonly string[];
  readonly set: readonly string[];
  readonly setString: readonly string[];
  readonly namespace: string;
  readonly releaseName: string;
  readonly createNamespace: boolean;
  readonly skipCrds: boolean;
  /** Write one file per chart source into this directory instead of printing. */
  readonly outputDir?: string;
  /** Apply with kubectl instead of printing. */
  readonly apply: boolean;
  readonly kubectl?: KubectlOptions;
}

export interface InstallIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** The manifests for these options (values checked, templates rendered), in install order. */
export function renderInstall(opts: InstallOptions, progress: (line: string) => void = () => {}): Manifest[] {
  const chart = loadChart(opts.chartDir);
  progress(`chart ${chart.name} ${chart.version} (app ${chart.appVersion}) from ${opts.chartDir}`);
  let values = chart.values;
  for (const f of opts.valuesFiles) values = mergeValues(values, readValuesFile(f));
  for (const s of opts.set) values = mergeValues(values, parseSet(s, true));
  for (const s of opts.setString) values = mergeValues(values, parseSet(s, false));
  const manifests = renderChart(chart, { values, releaseName: opts.releaseName, namespace: opts.namespace, skipCrds: opts.skipCrds });
  const all = opts.createNamespace ? [namespaceManifest(opts.namespace, chart.name), ...manifests] : manifests;
  const crds = all.filter((m) => m.isCrd).length;
  progress(`rendered ${all.length} objects (${crds} CRDs) for release ${opts.releaseName} in namespace ${opts.namespace}`);
  return all;
}

export async function runInstall(opts: InstallOptions, io: InstallIo): Promise<void> {
  const progress = (line: string): void => {
    io.stderr.write(`[install] ${line}\n`);
  };
  const manifests = renderInstall(opts, progress);
  if (opts.outputDir !== undefined) {
    writeOutput(opts.outputDir, manifests, progress);
    return;
  }
  if (!opts.apply) {
    io.stdout.write(manifestStream(manifests));
    return;
  }
  const kubectl = opts.kubectl ?? {};
  const present = await existingCrds(kubectl);
  const toApply = manifests.filter((m) => {
    if (!m.isCrd || !present.has(m.object.metadata.name)) return true;
    progress(`CRD ${m.object.metadata.name} is already installed: left as it is (Helm's rule for crds/)`);
    return false;
  });
  // CRDs first, and established, before the objects of their kinds (GatewayClass, Gateways).
  const crds = toApply.filter((m) => m.isCrd);
  if (crds.length > 0) {
    progress(`applying ${crds.length} CRDs with kubectl`);
    await apply(kubectl, manifestStream(crds), io);
    await waitForCrds(kubectl, crds.map((m) => m.object.metadata.name), io);
  }
  const rest = toApply.filter((m) => !m.isCrd);
  progress(`applying ${rest.length} objects with kubectl`);
  await apply(kubectl, manifestStream(rest), io);
  progress('applied');
}

/** One file per chart source (crds/x.yaml, templates/y.yaml), like `helm template --output-dir`. */
function writeOutput(dir: string, manifests: readonly Manifest[], progress: (line: string) => void): void {
  const bySource = new Map<string, Manifest[]>();
  for (const m of manifests) bySource.set(m.source, [...(bySource.get(m.source) ?? []), m]);
  try {
    for (const [source, ms] of bySource) {
      const file = path.join(dir, source);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, manifestStream(ms));
      progress(`wrote ${file}`);
    }
  } catch (e) {
    throw new InstallError(InstallErrorCodes.OUTPUT, `cannot write manifests to ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

function namespaceManifest(namespace: string, chartName: string): Manifest {
  const object = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'app.kubernetes.io/part-of': 'ambit' } } };
  const text = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n  labels:\n    app.kubernetes.io/part-of: ambit`;
  return { source: `${chartName}/namespace (--create-namespace)`, text, object, isCrd: false };
}
