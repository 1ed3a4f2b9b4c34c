// `ambit install`: render the Helm chart (charts/ambit) with its values and print the manifests,
// write them to a directory, or apply them with kubectl. See docs/install.md.
import type { CommandModule } from 'yargs';
import { defaultChartDir } from './chart';
import { InstallError } from './errors';
import { runInstall } from './install';

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

export const installCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'install',
  describe: 'Render the Ambit Helm chart (CRDs, control plane, agents, CNI, RBAC) and print, write or apply the manifests',
  builder: (y) =>
    y
      .option('values', { alias: 'f', type: 'string', array: true, describe: 'Values file (YAML); repeat for more, later ones win' })
      .option('set', { type: 'string', array: true, describe: 'Set a value: a.b=c (several with commas; true/false/null/integers typed)' })
      .option('set-string', { type: 'string', array: true, describe: 'Set a value as a string: a.b=c' })
      .option('namespace', { alias: 'n', type: 'string', default: 'ambit-system', describe: 'Namespace of the control plane and agents' })
      .option('release-name', { type: 'string', default: 'ambit', describe: 'Release name: the prefix of object names' })
      .option('create-namespace', { type: 'boolean', default: false, describe: 'Add the Namespace object to the manifests' })
      .option('skip-crds', { type: 'boolean', default: false, describe: 'Leave out the CRDs (crds/)' })
      .option('render-only', { type: 'boolean', describe: 'Print the manifests to stdout (the default)' })
      .option('output', { alias: 'o', type: 'string', describe: 'Write the manifests into this directory, one file per chart template' })
      .option('apply', { type: 'boolean', describe: 'Apply with `kubectl apply -f -` (CRDs the cluster has are skipped)' })
      .option('kube-context', { type: 'string', describe: 'kubectl context for --apply' })
      .option('chart', { type: 'string', describe: 'Chart directory (default: charts/ambit of this Ambit)' })
      // No defaults on these three: yargs counts a defaulted option as given when checking conflicts.
      .conflicts('apply', ['render-only', 'output'])
      .conflicts('render-only', 'output') as never,
  handler: async (argv) => {
    try {
      await runInstall(
        {
          chartDir: typeof argv.chart === 'string' ? argv.chart : defaultChartDir(),
          valuesFiles: list(argv.values),
          set: list(argv.set),
          setString: list(argv['set-string']),
          namespace: String(argv.namespace),
          releaseName: String(argv['release-name']),
          createNamespace: argv['create-namespace'] === true,
          skipCrds: argv['skip-crds'] === true,
          outputDir: typeof argv.output === 'string' ? argv.output : undefined,
          apply: argv.apply === true,
          kubectl: { context: typeof argv['kube-context'] === 'string' ? argv['kube-context'] : undefined },
        },
        { stdout: process.stdout, stderr: process.stderr },
      );
    } catch (err) {
      if (!(err instanceof InstallError)) throw err;
      console.error(`ambit install: ${err.message} (${err.code})`);
      process.exitCode = 2;
    }
  },
};
