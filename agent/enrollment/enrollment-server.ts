/**
 * The agent's enrollment socket: a unix SOCK_SEQPACKET listener through which the CNI plugin (or
 * `ambit local`) tells the agent which pod sandboxes to put in the mesh. Protocol: see
 * common/enrollment/protocol.ts. Access control is twofold: the socket file is 0600 (root only),
 * and a peer whose SO_PEERCRED uid is not 0 is refused anyway (a file mode is easy to loosen by
 * mistake; the peer's credentials are the kernel's word). Several clients may be connected; each
 * has its own session and its own snapshot.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/log';
import { SeqpacketSocket } from '../../common/native/addon';
import { EnrollmentErrorCodes } from '../../common/enrollment/errors';
import { encodeMessage } from '../../common/enrollment/protocol';
import type { CniPodResolver } from './cni-pod-resolver';
import type { EnrollmentHandler } from './enrollment-handler';
import { EnrollmentSession, type SessionContext } from './enrollment-session';
import { RECORD_RETRY, RecordedPodRestore, type RecordedPods, type RecordRetryPolicy } from './recorded-pods';
import { UidQueue } from './uid-queue';

export type { EnrollmentHandler } from './enrollment-handler';
export type { RecordedPods } from './recorded-pods';

/** Only root may enroll pods: it hands the agent network namespaces to capture. */
const SOCKET_MODE = 0o600;
const ALLOWED_UID = 0;

export interface EnrollmentServerOptions {
  /** e.g. /var/run/ambit/enroll.sock; the directory is created (0755) when missing. */
  socketPath: string;
  handler: EnrollmentHandler;
  logger: Logger;
  /** This node's name, sent in the agent's hello. */
  node: string;
  /** Resolves cni_add pods against the mesh config; without it cni_add is refused. */
  cni?: CniPodResolver;
  /** How recorded pods that could not be re-enrolled at start are retried (reenrollRecorded). */
  recordRetry?: RecordRetryPolicy;
}

export class EnrollmentServer {
  readonly socketPath: string;
  private readonly log: Logger;
  private readonly ctx: SessionContext;
  private listener: SeqpacketSocket | undefined;
  private readonly sessions = new Set<EnrollmentSession>();
  private closing: Promise<void> | undefined;
  private nextSession = 1;
  private restore: RecordedPodRestore | undefined;
  private readonly recordRetry: RecordRetryPolicy;

  constructor(options: EnrollmentServerOptions) {
    this.socketPath = path.resolve(options.socketPath);
    this.log = options.logger.child({ component: 'enrollment' });
    this.recordRetry = options.recordRetry ?? RECORD_RETRY;
    this.ctx = {
      handler: options.handler,
      node: options.node,
      enrolled: new Set(),
      sandboxes: new Map(),
      pods: new UidQueue(),
      cni: options.cni,
      onCniRequest: (uid, request) => this.restore?.onCniRequest(uid, request),
    };
  }

  /**
   * Starts listening. A stale socket file (left by an agent that died) is replaced; a live agent on
   * the same path or a non-socket file there is an error (EADDRINUSE / EEXIST).
   */
  listen(): void {
    if (this.listener || this.closing) throw new Error('EnrollmentServer.listen() may be called once');
    fs.mkdirSync(path.dirname(this.socketPath), { recursive: true, mode: 0o755 });
    const listener = SeqpacketSocket.listen(this.socketPath, { mode: SOCKET_MODE });
    listener.start({
      connection: (socket) => this.accept(socket),
      error: (err) => this.log.error({ err }, 'enrollment socket cannot accept'),
      close: (err) => this.log.error({ err }, 'enrollment socket failed; pods cannot be enrolled until the agent restarts'),
    });
    this.listener = listener;
    this.log.info({ socket: this.socketPath }, 'enrollment socket listening');
  }

  /**
   * Kubernetes has no snapshot sender: at start (before listen()) the agent re-enrolls the pods the
   * CNI plugin recorded in `dir`, each on its own (recorded-pods.ts). When every record is settled
   * this counts as a finished snapshot; pods that could not be re-enrolled keep their capture
   * (fail closed) and are retried in the background, and the agent's pods are not synced until
   * they are settled (waitingFor() says why). Rejects only when `dir` cannot be listed.
   */
  reenrollRecorded(dir: string): Promise<RecordedPods> {
    if (this.restore) throw new Error('EnrollmentServer.reenrollRecorded() may be called once');
    this.restore = new RecordedPodRestore(this.ctx, this.log, this.recordRetry);
    return this.restore.start(dir);
  }

  /** Why the pods the CNI plugin recorded are not all settled yet; undefined when they are. */
  waitingFor(): string | undefined {
    return this.restore?.waitingFor();
  }

  /** uids of the pods enrolled through this server and not removed since. */
  enrolledUids(): ReadonlySet<string> {
    return new Set(this.ctx.enrolled);
  }

  /**
   * Stops accepting (the socket file is removed), closes every session, and settles once the
   * handler calls in flight are done. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.restore?.close();
      this.listener?.close();
      const sessions = [...this.sessions];
      for (const s of sessions) s.close();
      await Promise.all(sessions.map((s) => s.idle()));
      this.log.info('enrollment socket closed');
    })();
    return this.closing;
  }

  private accept(socket: SeqpacketSocket): void {
    const peer = socket.peer;
    const log = this.log.child({ session: this.nextSession++, peerPid: peer?.pid, peerUid: peer?.uid });
    if (this.closing) return socket.close();
    if (peer === null || peer.uid !== ALLOWED_UID) {
      const who = peer === null ? 'a peer without credentials' : `uid ${peer.uid} (pid ${peer.pid})`;
      log.warn('refused an enrollment client that is not root');
      try {
        const reason = `enrolling pods needs root; refused ${who}`;
        socket.send(encodeMessage({ type: 'nack', id: null, code: EnrollmentErrorCodes.FORBIDDEN, reason }));
      } catch {
        // gone already
      }
      return socket.close();
    }
    const session = new EnrollmentSession(socket, this.ctx, log);
    this.sessions.add(session);
    session.start(() => this.sessions.delete(session));
  }
}
