/**
 * ambit-agent: the node agent's entry point (also `ambit agent`). Flags and environment variables
 * are declared in config.ts. SIGTERM drains (connections finish until AMBIT_DRAIN_TIMEOUT_MS),
 * SIGINT or a second signal closes at once. Exit codes: 0 after a clean stop, 2 for a bad setting,
 * 1 when start-up fails (the message says what to do).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createLogger } from '../common/log';
import { runService } from '../common/settings/service-main';
import { declareFlags, flagsOf } from '../common/settings/cli-flags';
import { Agent } from './agent';
import { AGENT_DECLARATIONS, loadAgentConfig, type AgentConfig } from './config';
import { AgentError, AgentErrorCodes } from './errors';

export function runAgent(settings: AgentConfig): Promise<number> {
  const log = createLogger('agent', { level: settings.logLevel });
  return runService('agent', log, () => Agent.start(settings, log));
}

export function parseAgentArgs(argv: string[]): AgentConfig {
  const parsed = declareFlags(yargs(argv).scriptName('ambit-agent').usage('$0 [flags]\n\nThe Ambit node agent.'), AGENT_DECLARATIONS)
    .strict()
    .help()
    .parseSync();
  return loadAgentConfig(flagsOf(parsed as Record<string, unknown>, AGENT_DECLARATIONS));
}

if (require.main === module) {
  let settings: AgentConfig;
  try {
    settings = parseAgentArgs(hideBin(process.argv));
  } catch (err) {
    if (!(err instanceof AgentError) || err.code !== AgentErrorCodes.INVALID_OPTION) throw err;
    console.error(`ambit-agent: ${err.message} (${err.code})`);
    process.exit(2);
  }
  void runAgent(settings).then((code) => {
    process.exitCode = code;
  });
}
