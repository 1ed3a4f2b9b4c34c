/**
 * One client connection to the enrollment socket: the protocol's state machine (hello, snapshot,
 * incremental; see common/enrollment/protocol.ts). Messages are handled strictly in order, one at a
 * time, and each is answered only once its work is done.
 */
import fs from 'node:fs';
import type { Logger } from '../../common/log';
import { Native, type SeqpacketSocket } from '../../common/native/addon';
import { EnrollmentError, EnrollmentErrorCodes } from '../../common/enrollment/errors';
import {
  ENROLLMENT_PROTOCOL_VERSION,
  encodeMessage,
  nackCode,
  nackReason,
  parseClientMessage,
  type AgentMessage,
  type ClientMessage,
  type PodInfo,
} from '../../common/enrollment/protocol';
import type { CniDecision, CniPodResolver } from './cni-pod-resolver';
import type { EnrollmentHandler } from './enrollment-handler';
import type { UidQueue } from './uid-queue';

/** What every session of one server shares. */
export interface SessionContext {
  handler: EnrollmentHandler;
  node: string;
  /** Decides identity and ambient-ness for cni_add; without it cni_add is refused. */
  cni?: CniPodResolver;
  /** Pods enrolled through this server (added and not since removed): what keep may name. */
  enrolled: Set<string>;
  /** The sandbox (CNI container id) each pod was enrolled with, where a CNI plugin named it. */
  sandboxes: Map<string, string>;
  /** Per pod uid, add and del one at a time across sessions (and the recorded pods' retries). */
  pods: UidQueue;
  /**
   * Told of every cni_add and del as it arrives, and of every cni_add that enrolled its pod:
   * re-enrollment of a recorded pod steps aside for the plugin (recorded-pods.ts).
   */
  onCniRequest?: (uid: string, request: CniRequestEvent) => void;
}

/** A CNI plugin's request: arrived (cni_add, del) or done (a cni_add that enrolled its pod). */
export interface CniRequestEvent {
  type: 'cni_add' | 'del' | 'enrolled';
  sandbox?: string;
}

type Phase = 'hello' | 'snapshot' | 'incremental';

function closeFds(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
  }
}

export class EnrollmentSession {
  private phase: Phase = 'hello';
  /** uids added or kept in this session's snapshot. */
  private readonly seen = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private onEnd: (() => void) | undefined;

  constructor(
    private readonly socket: SeqpacketSocket,
    private readonly ctx: SessionContext,
    private readonly log: Logger,
  ) {}

  /** Starts reading; `onEnd` runs once the session is closed, by either side. */
  start(onEnd: () => void): void {
    this.onEnd = onEnd;
    this.socket.start({
      message: (data, fds) => this.enqueue(() => this.handle(data, fds), fds),
      // A message the socket had to drop (too large, too many fds): its request cannot be named.
      error: (err) => this.enqueue(async () => this.nack(null, EnrollmentErrorCodes.PROTOCOL, err.message), []),
      close: (err) => {
        if (err) this.log.warn({ err }, 'enrollment connection failed');
        else this.log.debug('enrollment client disconnected');
        this.close();
      },
    });
  }

  /** Settles when the message being handled (if any) is done. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Closes the connection; messages not yet handled are dropped (their fds closed). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    this.onEnd?.();
  }

  private enqueue(work: () => Promise<void>, fds: readonly number[]): void {
    this.queue = this.queue.then(async () => {
      if (this.closed) return closeFds(fds);
      try {
        await work();
      } catch (err) {
        // handle() answers every failure itself; reaching here is a bug, not a client's fault.
        this.log.error({ err }, 'enrollment message handling failed');
        this.close();
      }
    });
  }

  private async handle(data: Buffer, fds: number[]): Promise<void> {
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(data, fds.length);
    } catch (err) {
      closeFds(fds);
      const e = err as EnrollmentError;
      this.log.warn({ reason: e.reason, id: e.id }, 'refused a malformed enrollment message');
      this.nack(e.id, e.code, e.reason);
      if (this.phase === 'hello') this.close();
      return;
    }
    if (this.phase === 'hello') return this.hello(msg, fds);
    switch (msg.type) {
      case 'hello':
        return this.nack(null, EnrollmentErrorCodes.SEQUENCE, 'hello was already received in this session');
      case 'add':
        return this.add(msg, fds[0]);
      case 'keep':
        return this.keep(msg);
      case 'snapshot_sent':
        return this.snapshotSent(msg.id);
      case 'del':
        return this.del(msg);
      case 'cni_add':
        return this.cniAdd(msg, fds[0]);
    }
  }

  private hello(msg: ClientMessage, fds: number[]): void {
    if (msg.type !== 'hello') {
      closeFds(fds);
      const id = 'id' in msg ? msg.id : null;
      this.nack(id, EnrollmentErrorCodes.SEQUENCE, `hello must be the first message, got ${msg.type}`);
      return this.close();
    }
    if (msg.version !== ENROLLMENT_PROTOCOL_VERSION) {
      this.nack(
        null,
        EnrollmentErrorCodes.VERSION,
        `this agent speaks enrollment protocol version ${ENROLLMENT_PROTOCOL_VERSION}, the client ${msg.version}`,
      );
      return this.close();
    }
    this.phase = 'snapshot';
    this.log.info({ client: msg.client }, 'enrollment client connected');
    this.send({ type: 'hello', version: ENROLLMENT_PROTOCOL_VERSION, node: this.ctx.node });
  }

  private async add(msg: Extract<ClientMessage, { type: 'add' }>, netnsFd: number): Promise<void> {
    const { pod } = msg;
    const log = this.log.child({ pod: `${pod.namespace}/${pod.name}`, uid: pod.uid });
    if (!this.checkNetns(msg, netnsFd)) return;
    await this.ctx.pods.run(pod.uid, () => this.enroll(msg.id, pod, netnsFd, log));
  }

  /**
   * A CNI plugin's add: the pod's identity and whether it is ambient come from the mesh config
   * (CniPodResolver); an ambient pod is then enrolled as add does, any other is answered
   * not_ambient and left alone.
   */
  private async cniAdd(msg: Extract<ClientMessage, { type: 'cni_add' }>, netnsFd: number): Promise<void> {
    const { pod } = msg;
    const log = this.log.child({ pod: `${pod.namespace}/${pod.name}`, uid: pod.uid, sandbox: msg.sandbox });
    if (!this.checkNetns(msg, netnsFd)) return;
    this.ctx.onCniRequest?.(pod.uid, { type: 'cni_add', sandbox: msg.sandbox });
    if (!this.ctx.cni) {
      closeFds([netnsFd]);
      return this.nack(msg.id, EnrollmentErrorCodes.PROTOCOL, 'this agent takes no cni_add (it has no mesh config to resolve pods with)');
    }
    let decision: CniDecision;
    try {
      decision = await this.ctx.cni.resolve(pod);
    } catch (err) {
      closeFds([netnsFd]);
      log.warn({ err }, 'refused a CNI pod the mesh config does not know');
      return this.nack(msg.id, nackCode(err), nackReason(err));
    }
    if (!decision.ambient) {
      closeFds([netnsFd]);
      log.info({ reason: decision.reason }, 'CNI pod is not ambient; nothing to do');
      return this.send({ type: 'not_ambient', id: msg.id, reason: decision.reason });
    }
    await this.ctx.pods.run(pod.uid, async () => {
      const enrolledWith = this.ctx.sandboxes.get(pod.uid);
      if (msg.sandbox !== undefined && enrolledWith !== undefined && enrolledWith !== msg.sandbox) {
        // The pod's sandbox was replaced without a del of the old one: an add of a uid the agent
        // has changes nothing, which would leave the new sandbox uncaptured. Take the old one out.
        log.info({ previousSandbox: enrolledWith }, 'CNI pod enrolled with another sandbox; replacing it');
        try {
          await this.ctx.handler.del(pod.uid);
        } catch (err) {
          closeFds([netnsFd]);
          log.warn({ err }, 'removing the previous sandbox failed');
          return this.nack(msg.id, nackCode(err), nackReason(err));
        }
        this.forget(pod.uid);
      }
      if (await this.enroll(msg.id, { ...pod, serviceAccount: decision.serviceAccount }, netnsFd, log, msg.sandbox)) {
        this.ctx.onCniRequest?.(pod.uid, { type: 'enrolled', sandbox: msg.sandbox });
      }
    });
  }

  /** False (and the fd closed, the request nacked) when `netnsFd` is not a network namespace. */
  private checkNetns(msg: { type: string; id: string }, netnsFd: number): boolean {
    try {
      Native.checkNetnsFd(netnsFd);
      return true;
    } catch (err) {
      closeFds([netnsFd]);
      this.nack(msg.id, EnrollmentErrorCodes.PROTOCOL, `${msg.type}'s fd is not a network namespace: ${nackReason(err)}`);
      return false;
    }
  }

  /** Enrolls and answers; true when the pod was enrolled (acked). */
  private async enroll(id: string, pod: PodInfo, netnsFd: number, log: Logger, sandbox?: string): Promise<boolean> {
    const had = this.ctx.enrolled.has(pod.uid);
    try {
      // The fd is the handler's only until add settles (see EnrollmentHandler.add).
      await this.ctx.handler.add(pod, netnsFd);
    } catch (err) {
      log.warn({ err }, 'pod enrollment failed');
      this.nack(id, nackCode(err), nackReason(err));
      return false;
    } finally {
      closeFds([netnsFd]);
    }
    this.ctx.enrolled.add(pod.uid);
    // A repeated add changes nothing: the pod keeps the sandbox it was enrolled with.
    if (!had && sandbox !== undefined) this.ctx.sandboxes.set(pod.uid, sandbox);
    if (this.phase === 'snapshot') this.seen.add(pod.uid);
    log.info('pod enrolled');
    this.ack(id);
    return true;
  }

  private keep(msg: { id: string; uid: string }): void {
    if (this.phase !== 'snapshot') {
      return this.nack(msg.id, EnrollmentErrorCodes.SEQUENCE, 'keep is only valid in a snapshot, before snapshot_sent');
    }
    if (!this.ctx.enrolled.has(msg.uid)) {
      return this.nack(
        msg.id,
        EnrollmentErrorCodes.UNKNOWN_POD,
        `this agent does not have pod ${msg.uid}; send add with its network namespace`,
      );
    }
    this.seen.add(msg.uid);
    this.ack(msg.id);
  }

  private async snapshotSent(id: string): Promise<void> {
    if (this.phase !== 'snapshot') {
      return this.nack(id, EnrollmentErrorCodes.SEQUENCE, 'snapshot_sent was already received in this session');
    }
    const kept: ReadonlySet<string> = new Set(this.seen);
    try {
      await this.ctx.handler.snapshotDone(kept);
    } catch (err) {
      this.log.warn({ err }, 'removing pods missing from the snapshot failed');
      return this.nack(id, nackCode(err), nackReason(err));
    }
    const removed = [...this.ctx.enrolled].filter((uid) => !kept.has(uid));
    for (const uid of removed) this.forget(uid);
    this.phase = 'incremental';
    this.seen.clear();
    this.log.info({ kept: kept.size, removed: removed.length }, 'enrollment snapshot done');
    this.ack(id);
  }

  private async del(msg: { id: string; uid: string; sandbox?: string }): Promise<void> {
    this.ctx.onCniRequest?.(msg.uid, { type: 'del', sandbox: msg.sandbox });
    await this.ctx.pods.run(msg.uid, async () => {
      const enrolledWith = this.ctx.sandboxes.get(msg.uid);
      if (msg.sandbox !== undefined && enrolledWith !== undefined && enrolledWith !== msg.sandbox) {
        // A late DEL of a sandbox the pod no longer runs in: the one it runs in now stays.
        this.log.info({ uid: msg.uid, sandbox: msg.sandbox, enrolledSandbox: enrolledWith }, 'ignored a del of a sandbox the pod no longer runs in');
        return this.ack(msg.id);
      }
      try {
        await this.ctx.handler.del(msg.uid);
      } catch (err) {
        this.log.warn({ err, uid: msg.uid }, 'pod removal failed');
        return this.nack(msg.id, nackCode(err), nackReason(err));
      }
      this.forget(msg.uid);
      this.seen.delete(msg.uid);
      this.log.info({ uid: msg.uid, sandbox: msg.sandbox }, 'pod removed');
      this.ack(msg.id);
    });
  }

  /** The pod is out: no longer enrolled through this server, its sandbox forgotten. */
  private forget(uid: string): void {
    this.ctx.enrolled.delete(uid);
    this.ctx.sandboxes.delete(uid);
  }

  private ack(id: string): void {
    this.send({ type: 'ack', id });
  }

  private nack(id: string | null, code: string, reason: string): void {
    this.send({ type: 'nack', id, code, reason });
  }

  private send(msg: AgentMessage): void {
    if (this.closed) return;
    try {
      this.socket.send(encodeMessage(msg));
    } catch (err) {
      // The client left; its session is over.
      this.log.debug({ err }, 'enrollment client gone before the answer');
      this.close();
    }
  }
}
