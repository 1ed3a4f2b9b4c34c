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
import { Native, SeqpacketSocket } from '../../common/native/addon';
import { EnrollmentErrorCodes } from '../../common/enrollment/errors';
import { encodeMessage, nackReason } from '../../common/enrollment/protocol';
import type { CniPodResolver } from './cni-pod-resolver';
import { openRecordedNetns, readCniRecords, removeRecord } from './cni-records';
import type { EnrollmentHandler } from './enrollment-handler';
import { EnrollmentSession, type SessionContext } from './enrollment-session';

export type { EnrollmentHandler } from './enrollment-handler';

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
}

/** What re-enrolling the CNI plugin's record found. */
export interface RecordedPods {
  enrolled: string[];
  notAmbient: string[];
  /** Records of pods whose namespace is gone: removed. */
  gone: string[];
  /** Pods that could not be re-enrolled: their capture stays (fails closed), no snapshot is done. */
  failed: Array<{ pod: string; reason: string }>;
}

export class EnrollmentServer {
  readonly socketPath: string;
  private readonly log: Logger;
  private readonly ctx: SessionContext;
  private listener: SeqpacketSocket | undefined;
  private readonly sessions = new Set<EnrollmentSession>();
  private closing: Promise<void> | undefined;
  private nextSession = 1;

  constructor(options: EnrollmentServerOptions) {
    this.socketPath = path.resolve(options.socketPath);
    this.log = options.logger.child({ component: 'enrollment' });
    this.ctx = { handler: options.handler, node: options.node, enrolled: new Set(), cni: options.cni };
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
   * CNI plugin recorded in `dir` (cni-records.ts), each decided like a cni_add. When every record
   * is settled this counts as a finished snapshot (capture a previous agent left for any other pod
   * is removed, and the agent reports the node's pods synced). When some pod could not be
   * re-enrolled, nothing is removed: its capture stays in place and fails closed.
   */
  async reenrollRecorded(dir: string): Promise<RecordedPods> {
    const out: RecordedPods = { enrolled: [], notAmbient: [], gone: [], failed: [] };
    const scan = readCniRecords(dir);
    for (const u of scan.unreadable) this.log.warn(u, 'ignored an unreadable CNI pod record');
    await Promise.all(
      scan.records.map(async (record) => {
        const key = `${record.pod.namespace}/${record.pod.name}`;
        const fd = openRecordedNetns(record);
        if (fd === undefined) {
          removeRecord(record);
          out.gone.push(key);
          return;
        }
        try {
          Native.checkNetnsFd(fd);
          const decision = this.ctx.cni ? await this.ctx.cni.resolve(record.pod) : undefined;
          if (decision === undefined) throw new Error('this agent has no mesh config to resolve CNI pods with');
          if (!decision.ambient) {
            removeRecord(record);
            out.notAmbient.push(key);
            return;
          }
          await this.ctx.handler.add({ ...record.pod, serviceAccount: decision.serviceAccount }, fd);
          this.ctx.enrolled.add(record.pod.uid);
          out.enrolled.push(key);
        } catch (err) {
          out.failed.push({ pod: key, reason: nackReason(err) });
        } finally {
          fs.closeSync(fd);
        }
      }),
    );
    if (out.failed.length === 0) {
      await this.ctx.handler.snapshotDone(new Set(this.ctx.enrolled));
      this.log.info({ dir, ...out }, 're-enrolled the pods the CNI plugin recorded');
    } else {
      this.log.error(
        { dir, ...out },
        'some pods the CNI plugin recorded could not be re-enrolled; their capture stays in place (fails closed) and ' +
          'the agent stays not ready; restart it once the control plane lists them, or delete those pods',
      );
    }
    return out;
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
