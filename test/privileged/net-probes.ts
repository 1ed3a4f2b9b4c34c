/**
 * Probes shared by the privileged tests: a TCP client run inside a pod, app
 * servers in pods, and snapshots of iptables/nftables rules (Ambit must never
 * write any).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../common/native/addon';
import { waitForLine, type Pod } from '../harness';

// Resolved from the repository so this also works compiled into dist/ (the demo uses it).
const FIXTURES = path.join(projectRoot(), 'test', 'fixtures');
export const CLIENT = path.join(FIXTURES, 'tcp-client.js');
export const ECHO_SERVER = path.join(FIXTURES, 'tcp-echo-server.js');
export const BIND_PROBE = path.join(FIXTURES, 'bind-probe.js');

export interface ClientResult {
  ok: boolean;
  reply: string | null;
  code: string | null;
  error: string | null;
  localAddress: string | null;
  remoteAddress: string | null;
}

/** Connect from inside `pod` to host:port, send a line, return what came back. */
export async function connectFrom(pod: Pod, host: string, port: number, family: 0 | 4 | 6 = 0): Promise<ClientResult> {
  const r = await pod.execNode(CLIENT, ['--host', host, '--port', String(port), '--family', String(family), '--timeout', '4000'], {
    timeoutMs: 15_000,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`tcp-client in ${pod.name} printed nothing useful: ${r.stderr || r.stdout}`);
  return JSON.parse(line) as ClientResult;
}

/** An echo server inside `pod` on [::]:port (dual stack); resolves once it listens. */
export async function startEchoServer(pod: Pod, port: number, host = '::'): Promise<void> {
  const child = pod.spawnNode(ECHO_SERVER, ['--host', host, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(child, '"listening"');
}

function rulesOf(cmd: string[], netns?: string): string {
  const argv = netns ? ['ip', 'netns', 'exec', netns, ...cmd] : cmd;
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    return (e as { stdout?: string }).stdout ?? '';
  }
}

/** Rule lines from iptables-save, ip6tables-save and `nft list ruleset` (comments and counters dropped). */
export function ruleLines(netns?: string): string[] {
  const ipt = [rulesOf(['iptables-save'], netns), rulesOf(['ip6tables-save'], netns)]
    .join('\n')
    .split('\n')
    .filter((l) => l.startsWith('-A') || l.startsWith('-I'));
  const nft = rulesOf(['nft', 'list', 'ruleset'], netns)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return [...ipt, ...nft];
}
