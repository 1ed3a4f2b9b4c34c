// Waiting for the runtime's pods to become ready, by reading status.json (written by the runtime
// at every change) — the same view `ambit local status` has.
import { RECORD_VERSION, type StatusDoc } from './runtime-record';
import { readJson, type StatePaths } from './state-dir';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A pod is settled when it is ready or will not become ready by waiting (it ended or failed). */
const settled = (p: StatusDoc['pods'][number]): boolean => p.ready || p.phase === 'Succeeded' || p.phase === 'Failed';

/**
 * Polls status.json until every pod is settled, `timeoutMs` passed, `abort()` says stop, or the
 * file is gone after it existed (the runtime stopped); returns the last status read (undefined if
 * there was none).
 */
export async function waitForPods(paths: StatePaths, timeoutMs: number, abort: () => boolean = () => false): Promise<StatusDoc | undefined> {
  const deadline = Date.now() + timeoutMs;
  let doc: StatusDoc | undefined;
  for (;;) {
    const now = readJson<StatusDoc>(paths.status, RECORD_VERSION);
    if (now === undefined && doc !== undefined) return doc;
    doc = now ?? doc;
    if (doc !== undefined && doc.pods.every(settled)) return doc;
    if (Date.now() >= deadline || abort()) return doc;
    await sleep(100);
  }
}
