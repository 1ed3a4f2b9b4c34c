// `ambit agent`: the node agent as its own process (agent/main.ts; also installed as `ambit-agent`).
// Every flag maps to one declared setting in agent/config.ts, which also names its environment
// variable.
import type { CommandModule } from 'yargs';
import { AGENT_DECLARATIONS, loadAgentConfig } from '../agent/config';
import { AgentError } from '../agent/errors';
import { runAgent } from '../agent/main';
import { declareFlags, flagsOf } from '../common/settings/cli-flags';

export const agentCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'agent',
  describe: "Run a node agent: capture enrolled pods' traffic with eBPF, carry it over mTLS (HBONE), enforce L4 policy",
  builder: (y) => declareFlags(y, AGENT_DECLARATIONS) as never,
  handler: async (argv) => {
    try {
      process.exitCode = await runAgent(loadAgentConfig(flagsOf(argv, AGENT_DECLARATIONS)));
    } catch (err) {
      if (!(err instanceof AgentError)) throw err;
      console.error(`ambit agent: ${err.message} (${err.code})`);
      process.exitCode = 2;
    }
  },
};
