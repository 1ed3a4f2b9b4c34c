// `ambit label ns <name> [--off]`: put a namespace's pods into the mesh (istio.io/dataplane-mode=
// ambient) or take them out, without restarting them. On the local runtime the label is written
// into the file that defines the Namespace and the command waits until the runtime has enrolled
// (or unenrolled) every running pod of it; on Kubernetes it patches the Namespace.
import type { Argv, CommandModule } from 'yargs';
import { runCli } from './cluster/errors';
import { enrollmentItems } from './cluster/live-checks';
import { waitUntilLive } from './cluster/live-wait';
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
    out(`the node agents ${a.off ? 'unenroll' : 'enroll'} its running pods in place (no restarts)`);
    return 0;
  }
  await waitUntilLive(`the pods of ${a.name} are ${a.off ? 'out of' : 'in'} the mesh`, target, () => enrollmentItems(target, a.name), {
    timeoutMs: a.timeout * 1000,
    print: out,
  });
  return 0;
}

const labelNs: CommandModule<object, LabelNsArgs> = {
  command: 'ns <name>',
  aliases: ['namespace'],
  describe: 'Put a namespace in the mesh (istio.io/dataplane-mode=ambient); --off takes it out. Its running pods are (un)enrolled in place',
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
