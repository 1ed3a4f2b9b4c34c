/**
 * ambit-agent: the node agent's entry point (also `ambit agent`). Flags and environment variables
 * are declared in config.ts. SIGTERM drains (connections finish until AMBIT_DRAIN_TIMEOUT_MS),
 * SIGINT or a second signal closes at once. Exit codes: 0 after a clean stop, 2 for a bad setting,
 * 1 when start-up fails (the message says what to do).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createLogger } from '../common/log';
import { declareFlags, flagsOf } from '../common/settings/cli-flags';
import { Agent } from './agent';
import { AGENT_DECLARATIONS, loadAgentConfig, type AgentConfig } from './config';
import { AgentError, AgentErrorCodes } from './errors';

export async function runAgent(settings: AgentConfig): Promise<number> {
  const log = createLogger('agent', { level: settings.logLevel });
  let agent: Agent;
  try {
    agent = await Agent.start(settings, log);
  } catch (err) {
    log.fatal({ err }, `agent failed to start: ${(err as Error).message}`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      log.info({ signal }, signals > 1 || signal === 'SIGINT' ? 'stopping now' : 'draining, then stopping');
      if (signals > 1 || signal === 'SIGINT') return resolve();
      void agent.drain().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await agent.close();
  log.info('agent stopped');
  log.flush();
  return 0;
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
