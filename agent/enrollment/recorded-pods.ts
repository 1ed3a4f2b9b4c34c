/**
 * Kubernetes has no snapshot sender: when the agent starts it re-enrolls the pods the CNI plugin
 * recorded (cni-records.ts), each decided like a cni_add, before it opens its socket. Every record
 * is settled on its own — one that cannot be read, opened or enrolled never stops the others, nor
 * the agent:
 *
 *   enrolled     its capture (pinned by the previous agent) is re-adopted and served again
 *   not ambient  / gone (its namespace is gone, or the path names another one): record removed
 *   unknown      its namespace is a /proc/<pid> path the agent cannot see (cri-dockerd, agent
 *                without hostPID): capture and record are kept (the pod fails closed), not retried
 *   failed       anything else (the config does not list the pod yet, a capture error): capture
 *                and record kept, retried with exponential backoff, a bounded number of times
 *
 * Once nothing is unknown or failed this counts as a finished snapshot: capture a previous agent
 * left for any other pod is removed and the agent reports its pods synced (readiness). Until then
 * nothing is removed, so no pod the agent could not re-enroll loses its capture (fail closed).
 * The plugin settles a pending pod too: the del of its recorded sandbox (the pod is gone), a
 * cni_add of another sandbox (it is being replaced), or a cni_add that enrolled it. A cni_add of
 * the recorded sandbox that fails settles nothing (the pod may run on, its capture must stay).
 */
import fs from 'node:fs';
import type { Logger } from '../../common/log';
import { Native } from '../../common/native/addon';
import { nackReason } from '../../common/enrollment/protocol';
import { openRecordedNetns, readCniRecord, readCniRecords, removeRecord, type CniRecord, type RecordedNetns } from './cni-records';
import type { CniRequestEvent, SessionContext } from './enrollment-session';

/** What re-enrolling the CNI plugin's record found at start. */
export interface RecordedPods {
  enrolled: string[];
  notAmbient: string[];
  /** Records of pods whose namespace is gone: removed. */
  gone: string[];
  /** Pods whose namespace this agent cannot see: capture and record kept, not retried. */
  unknown: Array<{ pod: string; reason: string }>;
  /** Pods that could not be re-enrolled yet: capture and record kept, retried. */
  failed: Array<{ pod: string; reason: string }>;
}

export interface RecordRetryPolicy {
  /** Before the first retry; doubled after each. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Attempts in all, the first one at start included. */
  attempts: number;
}

/** About 5 minutes of retries: long enough for a control plane that restarts with the agent. */
export const RECORD_RETRY: RecordRetryPolicy = { firstDelayMs: 1_000, maxDelayMs: 60_000, attempts: 10 };

type Outcome =
  | { kind: 'enrolled' | 'notAmbient' | 'superseded' }
  | { kind: 'gone' | 'unknown' | 'failed'; reason: string };

interface Pending {
  record: CniRecord;
  key: string;
  kind: 'unknown' | 'failed';
  reason: string;
  attempts: number;
  timer?: NodeJS.Timeout;
  gaveUp?: boolean;
}

export class RecordedPodRestore {
  private readonly pending = new Map<string, Pending>();
  private settled = false;
  private closed = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly log: Logger,
    private readonly retry: RecordRetryPolicy = RECORD_RETRY,
  ) {}

  /** The first pass, before the socket opens. Rejects only when the directory cannot be listed. */
  async start(dir: string): Promise<RecordedPods> {
    const out: RecordedPods = { enrolled: [], notAmbient: [], gone: [], unknown: [], failed: [] };
    const scan = readCniRecords(dir);
    for (const u of scan.unreadable) this.log.warn(u, 'ignored an unreadable CNI pod record');
    await Promise.all(
      scan.records.map(async (record) => {
        const key = `${record.pod.namespace}/${record.pod.name}`;
        const outcome = await this.attempt(record, undefined);
        switch (outcome.kind) {
          case 'enrolled':
            return void out.enrolled.push(key);
          case 'notAmbient':
            removeRecord(record);
            return void out.notAmbient.push(key);
          case 'gone':
            removeRecord(record);
            return void out.gone.push(key);
          case 'unknown':
          case 'failed':
            out[outcome.kind].push({ pod: key, reason: outcome.reason });
            this.pending.set(record.pod.uid, { record, key, kind: outcome.kind, reason: outcome.reason, attempts: 1 });
            return;
          case 'superseded':
            return; // only retries are superseded
        }
      }),
    );
    this.log[this.pending.size === 0 ? 'info' : 'warn']({ dir, ...out }, 're-enrolled the pods the CNI plugin recorded');
    if (this.pending.size === 0) {
      await this.settle(true);
      return out;
    }
    if (out.unknown.length > 0) {
      this.log.error(
        { dir, unknown: out.unknown },
        'the network namespaces of some pods the CNI plugin recorded are not visible to this agent; their capture and ' +
          'records stay in place (they fail closed) and the agent stays not ready until they are deleted or restarted',
      );
    }
    if (out.failed.length > 0) {
      this.log.error(
        { dir, ...out, retry: this.retry },
        'some pods the CNI plugin recorded could not be re-enrolled; their capture stays in place (fails closed), they are ' +
          'retried with backoff and the agent stays not ready until they are enrolled or deleted',
      );
      for (const p of this.pending.values()) if (p.kind === 'failed') this.schedule(p);
    }
    return out;
  }

  /** Why the agent's pods are not synced yet; undefined when nothing recorded is pending. */
  waitingFor(): string | undefined {
    if (this.pending.size === 0) return undefined;
    const what = [...this.pending.values()].map((p) => {
      if (p.kind === 'unknown') return `${p.key}: network namespace not visible (${p.reason})`;
      const state = p.gaveUp ? `gave up after ${p.attempts} attempts` : `retrying, attempt ${p.attempts} of ${this.retry.attempts}`;
      return `${p.key}: not re-enrolled, ${state} (${p.reason})`;
    });
    return `${this.pending.size} pod(s) the CNI plugin recorded are not served: ${what.join('; ')}`;
  }

  /** The plugin acted on `uid`: when that settles the pending pod, this restore steps aside. */
  onCniRequest(uid: string, request: CniRequestEvent): void {
    const p = this.pending.get(uid);
    if (p === undefined) return;
    const other = request.sandbox !== undefined && request.sandbox !== p.record.containerId;
    // A del of an even older sandbox says nothing about the recorded one; a cni_add of the recorded
    // one settles it only once it enrolled the pod.
    if (request.type === 'del' && other) return;
    if (request.type === 'cni_add' && !other) return;
    this.drop(p);
    this.log.info({ pod: p.key, uid, request: request.type }, 'the CNI plugin took over a recorded pod that was not re-enrolled');
    void this.settle(false);
  }

  /** Stops retrying (agent shutdown). */
  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
  }

  /**
   * One try at re-enrolling `record`. `retry` (undefined on the first pass): the pending entry it
   * retries; when a cni_add or del took the pod over meanwhile, nothing is done.
   */
  private async attempt(record: CniRecord, retry: Pending | undefined): Promise<Outcome> {
    let netns: RecordedNetns;
    try {
      netns = openRecordedNetns(record);
    } catch (err) {
      return { kind: 'failed', reason: `cannot open its network namespace ${record.netns}: ${nackReason(err)}` };
    }
    if (netns.state !== 'open') return { kind: netns.state, reason: netns.reason };
    const fd = netns.fd;
    try {
      Native.checkNetnsFd(fd);
      if (!this.ctx.cni) throw new Error('this agent has no mesh config to resolve CNI pods with');
      const decision = await this.ctx.cni.resolve(record.pod);
      if (!decision.ambient) return { kind: 'notAmbient' };
      const uid = record.pod.uid;
      return await this.ctx.pods.run(uid, async (): Promise<Outcome> => {
        if (this.closed || (retry !== undefined && this.pending.get(uid) !== retry)) return { kind: 'superseded' };
        await this.ctx.handler.add({ ...record.pod, serviceAccount: decision.serviceAccount }, fd);
        this.ctx.enrolled.add(uid);
        this.ctx.sandboxes.set(uid, record.containerId);
        return { kind: 'enrolled' };
      });
    } catch (err) {
      return { kind: 'failed', reason: nackReason(err) };
    } finally {
      fs.closeSync(fd);
    }
  }

  private schedule(p: Pending): void {
    if (this.closed) return;
    const delay = Math.min(this.retry.firstDelayMs * 2 ** (p.attempts - 1), this.retry.maxDelayMs);
    p.timer = setTimeout(() => void this.retryOne(p), delay);
    p.timer.unref();
  }

  private async retryOne(p: Pending): Promise<void> {
    const uid = p.record.pod.uid;
    if (this.closed || this.pending.get(uid) !== p) return;
    p.attempts++;
    // What the plugin says now: a new sandbox, or none (the pod was deleted) ends the retries.
    let outcome: Outcome;
    try {
      const current = readCniRecord(p.record.file);
      outcome =
        current === undefined || current.containerId !== p.record.containerId
          ? { kind: 'gone', reason: current === undefined ? 'its record is gone' : `its record names sandbox ${current.containerId} now` }
          : await this.attempt(current, p);
    } catch (err) {
      // Not proof the pod is gone: keep its capture, try again.
      outcome = { kind: 'failed', reason: `its record became unreadable: ${nackReason(err)}` };
    }
    if (this.closed || this.pending.get(uid) !== p || outcome.kind === 'superseded') return;
    const log = this.log.child({ pod: p.key, uid, attempt: p.attempts });
    switch (outcome.kind) {
      case 'enrolled':
        this.drop(p);
        log.info('re-enrolled a pod the CNI plugin recorded');
        break;
      case 'notAmbient':
      case 'gone':
        // Left to the plugin's DEL or the next agent start: a record is only removed before the
        // socket opens, when no ADD can be rewriting it.
        this.drop(p);
        log.info({ outcome: outcome.kind, reason: 'reason' in outcome ? outcome.reason : undefined }, 'a recorded pod needs no re-enrollment any more');
        break;
      case 'unknown':
        p.kind = 'unknown';
        p.reason = outcome.reason;
        log.error({ reason: outcome.reason }, 'the network namespace of a recorded pod is not visible to this agent; its capture stays (fails closed)');
        break;
      case 'failed':
        p.reason = outcome.reason;
        if (p.attempts >= this.retry.attempts) {
          p.gaveUp = true;
          log.error(
            { reason: outcome.reason },
            'gave up re-enrolling a pod the CNI plugin recorded; its capture stays in place (fails closed) and the agent stays ' +
              'not ready: restart the agent once the control plane lists it, or delete the pod',
          );
        } else {
          log.warn({ reason: outcome.reason }, 're-enrolling a pod the CNI plugin recorded failed; retrying');
          this.schedule(p);
        }
        break;
    }
    await this.settle(false);
  }

  private drop(p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(p.record.pod.uid);
  }

  /**
   * Nothing pending: finish the snapshot (prune what no pod re-adopted). Waits for add/del in
   * flight first, so a pod being enrolled right now is counted as kept. `first`: failures
   * propagate (the agent does not start); later ones are logged.
   */
  private async settle(first: boolean): Promise<void> {
    if (this.settled || this.closed || this.pending.size > 0) return;
    await this.ctx.pods.idle();
    if (this.settled || this.closed || this.pending.size > 0) return;
    this.settled = true;
    try {
      await this.ctx.handler.snapshotDone(new Set(this.ctx.enrolled));
    } catch (err) {
      if (first) throw err;
      this.log.error({ err }, 'removing capture no recorded pod re-adopted failed');
      return;
    }
    if (!first) this.log.info('every pod the CNI plugin recorded is settled; the agent reports its pods synced');
  }
}
