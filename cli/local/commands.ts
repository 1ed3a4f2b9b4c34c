// `ambit local up|down|status`: the flags, their defaults and which function runs. The command
// modules load on use: `status` need not load the control plane to read a file.
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_STATE_DIR } from './state-dir';

/** Fixed ports, so agents and users find the control plane without looking it up. */
export const DEFAULT_GRPC_LISTEN = '127.0.0.1:15012';
export const DEFAULT_HTTP_LISTEN = '127.0.0.1:15014';

const stateDir = {
  'state-dir': {
    type: 'string',
    default: DEFAULT_STATE_DIR,
    describe: 'Where the runtime keeps runtime.json, status.json and logs',
  },
} as const;

export const localCommand: CommandModule = {
  command: 'local <command>',
  describe: 'Run a directory of Kubernetes YAML on this machine: pods as network namespaces + cgroups (needs root)',
  builder: (y: Argv) =>
    y
      .command(
        'up',
        'Create nodes and pods for every Pod in a YAML directory, run their commands, start the control plane',
        (b) =>
          b
            .options({
              file: { alias: 'f', type: 'string', demandOption: true, describe: 'Directory of Kubernetes YAML (e.g. examples/bookinfo-lite)' },
              ...stateDir,
              foreground: { type: 'boolean', default: false, describe: 'Run in this terminal; Ctrl-C stops it and removes everything' },
              wait: { type: 'number', default: 30, describe: 'Seconds to wait for pods to become ready before printing the summary' },
              'grpc-listen': { type: 'string', default: DEFAULT_GRPC_LISTEN, describe: 'Control plane gRPC address (host:port, port 0 = any)' },
              'http-listen': { type: 'string', default: DEFAULT_HTTP_LISTEN, describe: 'Control plane status address (host:port, port 0 = any)' },
              'progress-fd': { type: 'number', hidden: true, describe: 'Internal: report start-up to the `up` that started this runtime' },
            })
            .strict(),
        async (a) => {
          const { localUp } = await import('./up');
          process.exitCode = await localUp({
            file: a.file,
            stateDir: a['state-dir'],
            foreground: a.foreground,
            wait: a.wait,
            grpcListen: a['grpc-listen'],
            httpListen: a['http-listen'],
            progressFd: a['progress-fd'],
          });
        },
      )
      .command(
        'down',
        'Stop the local runtime and remove every process, netns, cgroup and state file it created (also after a crash)',
        (b) => b.options({ ...stateDir, timeout: { type: 'number', default: 20, describe: 'Seconds to wait after SIGTERM before SIGKILL' } }).strict(),
        async (a) => {
          const { localDown } = await import('./down');
          process.exitCode = await localDown({ stateDir: a['state-dir'], timeout: a.timeout });
        },
      )
      .command(
        'status',
        'Show nodes, pods (IPs, phase, readiness, restarts), services and the control plane of the local runtime',
        (b) => b.options({ ...stateDir, json: { type: 'boolean', default: false, describe: 'Print status.json' } }).strict(),
        async (a) => {
          const { localStatus } = await import('./status');
          process.exitCode = await localStatus({ stateDir: a['state-dir'], json: a.json });
        },
      )
      .demandCommand(1, 'Say what to do: `ambit local up -f <dir>`, `ambit local status` or `ambit local down`.'),
  handler: () => {},
};
