// `ambit label ns <name> [--off]`: put a namespace's pods into the mesh (istio.io/dataplane-mode=
// ambient) or take them out. On the local runtime the label is written into the file that defines
// the Namespace and the command waits until the runtime has enrolled (or unenrolled) every running
// pod of it in place, without restarts. On Kubernetes it patches the Namespace, and pods follow
// the label only when they start (the CNI plugin enrolls a pod sandbox as it is created; nothing
// enrolls a running pod, docs/cni.md): the command says which restart makes the change apply.
import type { Argv, CommandModule } from 'yargs';
import { runCli } from './cluster/errors';
import { enrollmentItems } from './cluster/live-checks';
import { localScope, waitUntilLive } from './cluster/live-wait';
import { LocalTarget } from './cluster/local-target';
import { openTarget, targetOptions, type TargetArgs } from './cluster/select-target';
import { Labels, requireDnsLabel, requireNamespace } from './cluster/target';

export interface LabelNsArgs extends TargetArgs {
  name: string;
  off: boolean;
  timeout: number;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

export async function labelNamespace(a: LabelNsArgs): Promise<number> {
  requireDnsLabel('namespace', a.name);
  const target = await openTarget(a);
  const ns = requireNamespace(await target.view(), a.name, target.description);
  const before = ns.labels[Labels.DATAPLANE_MODE];
  const done = await target.setNamespaceLabels(a.name, { [Labels.DATAPLANE_MODE]: a.off ? null : 'ambient' });
  out(`namespace ${a.name}: ${a.off ? `${Labels.DATAPLANE_MODE} removed` : `${Labels.DATAPLANE_MODE}=ambient`} (${done}) on ${target.description}`);
  if (before !== undefined && before !== 'ambient' && !a.off) out(`  (it was ${Labels.DATAPLANE_MODE}=${before})`);
  if (!(target instanceof LocalTarget)) {
    for (const line of kubeRestartNote(a.name, a.off)) out(line);
    return 0;
  }
  await waitUntilLive(`the pods of ${a.name} are ${a.off ? 'out of' : 'in'} the mesh`, localScope(target), () => enrollmentItems(target, a.name), {
    timeoutMs: a.timeout * 1000,
    print: out,
  });
  return 0;
}

/** What a label change means for a Kubernetes namespace's running pods: nothing until they restart. */
export function kubeRestartNote(namespace: string, off: boolean): string[] {
  return [
    off
      ? `pods of ${namespace} started from now on are not captured; pods already running stay in the mesh until they are restarted`
      : `pods of ${namespace} started from now on are captured (the CNI plugin enrolls them as they start); pods already running stay out of the mesh until they are restarted`,
    `  restart them: kubectl rollout restart deployment -n ${namespace} (likewise statefulset and daemonset; delete bare pods)`,
  ];
}

const labelNs: CommandModule<object, LabelNsArgs> = {
  command: 'ns <name>',
  aliases: ['namespace'],
  describe:
    'Put a namespace in the mesh (istio.io/dataplane-mode=ambient); --off takes it out. The local runtime (un)enrolls its running pods in place; on Kubernetes running pods follow once restarted',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'Namespace' })
      .options({
        off: { type: 'boolean', default: false, describe: 'Remove the label: the pods leave the mesh' },
        timeout: { type: 'number', default: 60, describe: 'Seconds to wait until every pod is (un)enrolled (local runtime)' },
        ...targetOptions,
      })
      .example('$0 label ns shop', "enroll namespace shop's pods")
      .example('$0 label ns shop --off', 'take them out of the mesh again') as unknown as Argv<LabelNsArgs>,
  handler: (a) => runCli('label ns', () => labelNamespace(a)),
};

export const labelCommand: CommandModule = {
  command: 'label <kind>',
  describe: 'Label a namespace into (or out of) the mesh',
  builder: (y: Argv) => y.command(labelNs).demandCommand(1, 'Say what to label: `ambit label ns <name> [--off]`.'),
  handler: () => {},
};
