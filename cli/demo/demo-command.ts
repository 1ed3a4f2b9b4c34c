// `ambit demo` (the local mesh walkthrough) and `ambit demo capture` (eBPF capture alone, on one
// simulated node). Loaded on use: the walkthrough pulls in the whole local runtime.
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_GRPC_LISTEN, DEFAULT_HTTP_LISTEN } from '../local/commands';

export const DEMO_STATE_DIR = '/run/ambit/demo';

export const demoCommand: CommandModule = {
  command: 'demo',
  describe: 'Bring up a local mesh (control plane, 2 agents, a waypoint, a 4-service app) and walk through mTLS, policy, canary and retries (needs root)',
  builder: (y: Argv) =>
    y
      .command(
        'capture',
        'Show eBPF capture alone: two pods, a connection between them, its original destination (needs root)',
        () => {},
        async () => {
          const { runCaptureDemo } = await import('./capture-demo');
          process.exitCode = await runCaptureDemo();
        },
      )
      .options({
        keep: { type: 'boolean', default: false, describe: 'Leave the mesh running at the end (for the dashboard); stop it with `ambit local down`' },
        'state-dir': { type: 'string', default: DEMO_STATE_DIR, describe: 'Where the demo runtime keeps its state and logs' },
        'grpc-listen': { type: 'string', default: DEFAULT_GRPC_LISTEN, describe: 'Control plane gRPC address (host:port, port 0 = any)' },
        'http-listen': { type: 'string', default: DEFAULT_HTTP_LISTEN, describe: 'Control plane status and dashboard address (host:port, port 0 = any)' },
      }),
  handler: async (a) => {
    const { runWalkthrough } = await import('./walkthrough/walkthrough');
    process.exitCode = await runWalkthrough({
      keep: a.keep as boolean,
      stateDir: a['state-dir'] as string,
      grpcListen: a['grpc-listen'] as string,
      httpListen: a['http-listen'] as string,
    });
  },
};
