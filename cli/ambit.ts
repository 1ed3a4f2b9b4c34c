#!/usr/bin/env node
/**
 * The `ambit` command (docs/cli.md):
 *   cluster     `label ns`, `waypoint apply|list|delete`, `status`, `config-dump` — on the running
 *               local runtime, or Kubernetes with --kubeconfig/--context (cli/cluster/)
 *   local       `local up|down|status`: a YAML directory run as local pods (cli/local/)
 *   demo        the local mesh walkthrough; `demo capture`: the eBPF capture alone (cli/demo/)
 *   install     render the Helm chart's manifests, or apply them with kubectl (cli/install/)
 *   processes   `control-plane`, `agent`, `waypoint` (no subcommand), `cni-install`: each component on its own
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { demoCommand } from './demo/demo-command';
import { installCommand } from './install/install-command';
import { cniInstallCommand } from './cni-installer/cni-install-command';
import { agentCommand } from './agent-command';
import { configDumpCommand } from './config-dump-command';
import { controlPlaneCommand } from './control-plane-command';
import { labelCommand } from './label-command';
import { localCommand } from './local/commands';
import { statusCommand } from './status-command';
import { waypointCommand } from './waypoint-command';

void yargs(hideBin(process.argv))
  .scriptName('ambit')
  // The cluster commands.
  .command(labelCommand)
  .command(waypointCommand)
  .command(statusCommand)
  .command(configDumpCommand)
  // Running Ambit on this machine.
  .command(localCommand)
  .command(demoCommand)
  .command(installCommand)
  // The components as processes.
  .command(controlPlaneCommand)
  .command(agentCommand)
  .command(cniInstallCommand)
  .demandCommand(1, 'Say what to do, e.g. `sudo ambit local up -f examples/bookinfo-lite`, then `ambit status`.')
  .strict()
  .help()
  .parseAsync();
