// Waiting until a change is live, with progress: one line per item as it gets there, a "still
// waiting" line every few seconds naming what is left, and on timeout an error that names it too
// and where to look. The local runtime tells when a change made through its directory is live;
// on Kubernetes what an object's controller reports (a Gateway's Programmed condition) is.
import { CliError, CliErrorCodes } from './errors';
import type { LocalTarget } from './local-target';

/** Where a wait happens: what can end it early, and where to look when it times out. */
export interface WaitScope {
  /** Throws when waiting can no longer succeed (the local runtime stopped). */
  assertAlive?(): void;
  /** Appended to the timeout error: where to look. */
  hint: string;
}

/** The local runtime: its stopping ends the wait; its status and logs say why. */
export function localScope(target: LocalTarget): WaitScope {
  return {
    assertAlive: () => {
      if (!target.running()) throw new CliError(CliErrorCodes.RUNTIME_STOPPED, `the local runtime stopped while waiting; see ${target.paths.runtimeLog}`);
    },
    hint: `\`ambit status\` shows where things are, ${target.paths.runtimeLog} and ${target.paths.logs} say why`,
  };
}

export interface WaitItem {
  /** What is awaited, e.g. "shop/web-1 enrolled". */
  id: string;
  done: boolean;
  /** Why it is not done yet, when known; shown while waiting and on timeout. */
  detail?: string;
}

export interface WaitOptions {
  timeoutMs: number;
  print: (line: string) => void;
  /** Between checks. */
  everyMs?: number;
  /** Between "still waiting" lines. */
  reportEveryMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Polls `check` until every item is done. An item check that throws (an agent restarting, a file
 * being rewritten, an API server hiccup) counts as not done yet; RUNTIME_STOPPED ends the wait at once.
 */
export async function waitUntilLive(what: string, scope: WaitScope, check: () => Promise<WaitItem[]>, opts: WaitOptions): Promise<void> {
  const t0 = Date.now();
  const reported = new Set<string>();
  let lastReport = t0;
  let pending: string[] = [];
  const label = (i: WaitItem): string => (i.detail ? `${i.id} (${i.detail})` : i.id);
  let lastError: Error | undefined;
  opts.print(`waiting until ${what} (up to ${Math.round(opts.timeoutMs / 1000)} s)`);
  for (;;) {
    scope.assertAlive?.();
    let items: WaitItem[] | undefined;
    try {
      items = await check();
      lastError = undefined;
    } catch (e) {
      if (e instanceof CliError && e.code === CliErrorCodes.RUNTIME_STOPPED) throw e;
      lastError = e as Error;
    }
    if (items !== undefined) {
      for (const i of items) {
        if (i.done && !reported.has(i.id)) {
          reported.add(i.id);
          opts.print(`  ${i.id} (${seconds(Date.now() - t0)})`);
        }
      }
      pending = items.filter((i) => !i.done).map(label);
      if (pending.length === 0) {
        opts.print(`live after ${seconds(Date.now() - t0)}`);
        return;
      }
    }
    const elapsed = Date.now() - t0;
    if (elapsed >= opts.timeoutMs) {
      const left = pending.length > 0 ? pending.join('; ') : (lastError?.message ?? 'a first answer');
      throw new CliError(
        CliErrorCodes.WAIT_TIMEOUT,
        `the change is made, but after ${seconds(elapsed)} still waiting for: ${left}; ${scope.hint}`,
      );
    }
    if (Date.now() - lastReport >= (opts.reportEveryMs ?? 5_000)) {
      lastReport = Date.now();
      opts.print(`  still waiting after ${Math.round(elapsed / 1000)} s for: ${pending.join('; ') || lastError?.message || 'a first answer'}`);
    }
    await sleep(opts.everyMs ?? 200);
  }
}
