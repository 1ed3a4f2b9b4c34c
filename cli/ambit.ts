#!/usr/bin/env node
/**
 * The `ambit` command. For now: `ambit demo` (the eBPF capture demonstration).
 * `local up/down`, `install`, `label`, `waypoint` and `status` arrive with the
 * control-plane, agent and Kubernetes issues.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCaptureDemo } from './demo/capture-demo';

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
  .demandCommand(1, 'Say what to do, e.g. `ambit demo`.')
  .strict()
  .help()
  .parseAsync();
