// `ambit status`: the whole mesh at a glance — the control plane, each node's agent with its
// resources, the waypoints and every pod with its enrollment and waypoint. Tables by default,
// --json for scripts. Local runtime only so far (cluster/mesh-status.ts collects it).
import type { Argv, CommandModule } from 'yargs';
import { runCli } from './cluster/errors';
import { collectMeshStatus } from './cluster/mesh-status';
import { renderMeshStatus } from './cluster/mesh-status-view';
import { requireLocal, targetOptions, type TargetArgs } from './cluster/select-target';

interface StatusArgs extends TargetArgs {
  json: boolean;
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'Show the control plane, the agent of every node (readiness, uptime, CPU, memory), the waypoints and the pods with their enrollment',
  builder: (y) =>
    y.options({ json: { type: 'boolean', default: false, describe: 'JSON, for scripts' }, ...targetOptions }) as unknown as Argv<StatusArgs>,
  handler: (a) =>
    runCli('status', async () => {
      const status = await collectMeshStatus(requireLocal(a, 'status'));
      const lines = a.json ? [JSON.stringify(status, null, 2)] : renderMeshStatus(status);
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    }),
};
