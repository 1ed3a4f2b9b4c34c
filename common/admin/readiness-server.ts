/**
 * The agent's readiness server (15021, Istio's port): GET /healthz/ready answers 200 "ready" only
 * when every check passes, else 503 with one line per check that does not, e.g.
 *   not ready
 *   certificates: 2 identities still pending
 * A check that throws, rejects or takes longer than the timeout counts as not ready, so a stuck
 * dependency makes the agent unready instead of hanging the kubelet's probe.
 */
import type { Logger } from '../log';
import { Ports } from '../ports';
import { sendText, startHttpEndpoint, type HttpEndpoint, type ListenOptions } from './http-server';

export interface ReadinessResult {
  ok: boolean;
  /** Why not (or what is ready); shown in the 503 body. */
  detail?: string;
}

export interface ReadinessCheck {
  /** Short, stable: "config", "certificates", "capture". */
  name: string;
  check(): ReadinessResult | Promise<ReadinessResult>;
}

export interface ReadinessServerOptions extends Partial<ListenOptions> {
  checks?: readonly ReadinessCheck[];
  /** Default 2000 ms. */
  checkTimeoutMs?: number;
  logger?: Logger;
}

export interface ReadinessServer extends HttpEndpoint {
  /** Adds a check; returns the function that removes it. */
  addCheck(check: ReadinessCheck): () => void;
  /** Runs every check, as /healthz/ready does. */
  evaluate(): Promise<{ ready: boolean; failing: { name: string; detail?: string }[] }>;
}

export const READINESS_DEFAULT_HOST = '0.0.0.0';
export const READINESS_PATH = '/healthz/ready';

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<ReadinessResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ReadinessResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `check timed out after ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => check.check()), timeout]);
  } catch (err) {
    return { ok: false, detail: `check failed: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    clearTimeout(timer);
  }
}

export async function startReadinessServer(opts: ReadinessServerOptions = {}): Promise<ReadinessServer> {
  const timeoutMs = opts.checkTimeoutMs ?? 2000;
  const checks = new Set<ReadinessCheck>(opts.checks ?? []);

  const evaluate: ReadinessServer['evaluate'] = async () => {
    const list = [...checks];
    const results = await Promise.all(list.map((c) => runCheck(c, timeoutMs)));
    const failing = list
      .map((c, i) => ({ name: c.name, result: results[i] }))
      .filter(({ result }) => result.ok !== true)
      .map(({ name, result }) => (result.detail !== undefined ? { name, detail: result.detail } : { name }));
    return { ready: failing.length === 0, failing };
  };

  const endpoint = await startHttpEndpoint(
    'readiness',
    { host: opts.host ?? READINESS_DEFAULT_HOST, port: opts.port ?? Ports.readiness },
    new Map([
      [
        READINESS_PATH,
        {
          description: 'readiness: 200 when every check passes, else 503 naming what is not ready',
          handle: async (_req, res) => {
            const { ready, failing } = await evaluate();
            if (ready) return sendText(res, 200, 'ready\n');
            const lines = failing.map((f) => (f.detail !== undefined ? `${f.name}: ${f.detail}` : f.name));
            return sendText(res, 503, `not ready\n${lines.join('\n')}\n`);
          },
        },
      ],
    ]),
    opts.logger,
  );

  return {
    ...endpoint,
    close: () => endpoint.close(),
    addCheck(check) {
      checks.add(check);
      return () => {
        checks.delete(check);
      };
    },
    evaluate,
  };
}
