#!/usr/bin/env node
/**
 * The `ambit` command: `ambit demo` (the eBPF capture demonstration) and
 * `ambit local up|down|status` (a YAML directory run as local pods, cli/local),
 * `ambit control-plane` (the control plane on its own), `ambit agent` (a node agent on its own),
 * `ambit waypoint` (a waypoint on its own). `install`, `label` and `status` arrive with the
 * Kubernetes issue.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCaptureDemo } from './demo/capture-demo';
import { agentCommand } from './agent-command';
import { controlPlaneCommand } from './control-plane-command';
import { localCommand } from './local/commands';
import { waypointCommand } from './waypoint-command';

void yargs(hideBin(process.argv))
  .scriptName('ambit')
  .command(
    'demo',
    'Show eBPF capture on this machine: two pods, a connection between them, its original destination (needs root)',
    () => {},
    async () => {
      process.exitCode = await runCaptureDemo();
    },
  )
  .command(localCommand)
  .command(controlPlaneCommand)
  .command(agentCommand)
  .command(waypointCommand)
  .demandCommand(1, 'Say what to do, e.g. `ambit demo`.')
  .strict()
  .help()
  .parseAsync();
