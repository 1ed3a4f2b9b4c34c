// `ambit config-dump agent <node>` / `ambit config-dump waypoint <ns>/<name>`: the admin
// /config_dump (port 15000) of a node's agent or of a waypoint, as JSON. Both admin servers listen
// on loopback only: the agent's in the runtime's network namespace, the waypoint's inside its
// pod's, so the request is made from there (cluster/netns-http.ts).
import type { Argv, CommandModule } from 'yargs';
import { CliError, CliErrorCodes, runCli } from './cluster/errors';
import { agentEndpoint, waypointEndpoint } from './cluster/local-endpoints';
import { getJson, type HttpTarget } from './cluster/netns-http';
import { requireLocal, targetOptions, type TargetArgs } from './cluster/select-target';

interface AgentArgs extends TargetArgs {
  node: string;
}

interface WaypointArgs extends TargetArgs {
  waypoint: string;
  namespace: string;
}

async function dump(at: HttpTarget): Promise<number> {
  process.stdout.write(`${JSON.stringify(await getJson<unknown>(at, '/config_dump', 10_000), null, 2)}\n`);
  return 0;
}

const agentDump: CommandModule<object, AgentArgs> = {
  command: 'agent <node>',
  describe: "A node agent's config: settings, config version, workloads, services, policies, enrolled pods, certificates, HBONE pool",
  builder: (y) => y.positional('node', { type: 'string', demandOption: true, describe: 'Node name, e.g. node1' }).options(targetOptions) as unknown as Argv<AgentArgs>,
  handler: (a) =>
    runCli('config-dump agent', () => {
      const target = requireLocal(a, 'config-dump');
      return dump(agentEndpoint(target, target.status(), a.node, 'admin'));
    }),
};

const waypointDump: CommandModule<object, WaypointArgs> = {
  command: 'waypoint <waypoint>',
  describe: "A waypoint's config: services, routes, policies, upstream state",
  builder: (y) =>
    y
      .positional('waypoint', { type: 'string', demandOption: true, describe: '<namespace>/<name>, or <name> with -n' })
      .options({ namespace: { alias: 'n', type: 'string', default: 'default', describe: 'Namespace, when not given as <namespace>/<name>' }, ...targetOptions }) as unknown as Argv<WaypointArgs>,
  handler: (a) =>
    runCli('config-dump waypoint', async () => {
      const parts = a.waypoint.split('/');
      if (parts.length > 2 || parts.some((p) => p === '')) {
        throw new CliError(CliErrorCodes.BAD_NAME, `"${a.waypoint}" is not <namespace>/<name> or <name>`);
      }
      const [namespace, name] = parts.length === 2 ? parts : [a.namespace, parts[0]];
      const target = requireLocal(a, 'config-dump');
      return dump(waypointEndpoint(await target.view(), namespace, name, 'admin'));
    }),
};

export const configDumpCommand: CommandModule = {
  command: 'config-dump <kind>',
  describe: "Print the running config of a node's agent or of a waypoint (its admin /config_dump) as JSON",
  builder: (y: Argv) =>
    y.command(agentDump).command(waypointDump).demandCommand(1, 'Say whose config: `ambit config-dump agent <node>` or `ambit config-dump waypoint <namespace>/<name>`.'),
  handler: () => {},
};
