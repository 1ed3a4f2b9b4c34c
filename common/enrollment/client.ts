/**
 * Client of the agent's enrollment socket, for `ambit local` and (later) the CNI plugin.
 * connect() resolves after the hello exchange; each request resolves on its ack and rejects with
 * an EnrollmentError (the nack's code and reason, or TIMEOUT / CLOSED) otherwise.
 * Protocol: see ./protocol.ts.
 */
import fs from 'node:fs';
import { isSystemError } from '../errors';
import { SeqpacketSocket } from '../native/addon';
import { EnrollmentError, EnrollmentErrorCodes } from './errors';
import {
  ENROLLMENT_PROTOCOL_VERSION,
  encodeMessage,
  parseAgentMessage,
  readPod,
  type AgentMessage,
  type ClientMessage,
  type PodInfo,
} from './protocol';

export interface EnrollmentClientOptions {
  /** Who is talking, for the agent's logs (e.g. "ambit-local", "ambit-cni"). */
  client: string;
  /** Per request, hello included. Default 10 s: an add waits for capture to be in place. */
  timeoutMs?: number;
}

interface Pending {
  what: string;
  resolve(): void;
  reject(err: EnrollmentError): void;
  timer: NodeJS.Timeout;
}

type Request = { type: 'add'; pod: PodInfo } | { type: 'keep'; uid: string } | { type: 'snapshot_sent' } | { type: 'del'; uid: string; sandbox?: string };

const DEFAULT_TIMEOUT_MS = 10_000;

export class EnrollmentClient {
  private agentNode = '';
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private ended: EnrollmentError | undefined;
  private onHello: ((err?: EnrollmentError) => void) | undefined;
  private readonly endWaiters: Array<(err: EnrollmentError | null) => void> = [];

  private constructor(
    private readonly socket: SeqpacketSocket,
    private readonly timeoutMs: number,
  ) {}

  static async connect(socketPath: string, options: EnrollmentClientOptions): Promise<EnrollmentClient> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
      throw new EnrollmentError(EnrollmentErrorCodes.PROTOCOL, `timeoutMs must be a positive integer, got ${timeoutMs}`);
    }
    if (typeof options.client !== 'string' || options.client.length === 0 || options.client.length > 128) {
      throw new EnrollmentError(EnrollmentErrorCodes.PROTOCOL, 'client must be a name of 1..128 characters');
    }
    const client = new EnrollmentClient(connectSocket(socketPath), timeoutMs);
    await client.hello(options.client);
    return client;
  }

  /** The agent's node name, from its hello. */
  get node(): string {
    return this.agentNode;
  }

  get closed(): boolean {
    return this.ended !== undefined;
  }

  /** Settles when the connection ends: null after close(), else why (the agent left, a refusal). */
  whenClosed(): Promise<EnrollmentError | null> {
    if (this.ended) return Promise.resolve(this.ended.code === LOCAL_CLOSE ? null : this.ended);
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }

  /**
   * Enrolls a pod; resolves once the agent has capture in place. `netnsFd` (the pod's network
   * namespace) stays the caller's: the agent receives its own copy.
   */
  async add(pod: PodInfo, netnsFd: number): Promise<void> {
    return this.request({ type: 'add', pod: readPod(pod) }, [netnsFd], `add ${pod.namespace}/${pod.name}`);
  }

  /** Snapshot only: the pod is still there (the agent has it already). */
  async keep(uid: string): Promise<void> {
    return this.request({ type: 'keep', uid }, [], `keep ${uid}`);
  }

  /** Ends the snapshot: the agent removes the pods it has that the snapshot neither added nor kept. */
  async snapshotSent(): Promise<void> {
    return this.request({ type: 'snapshot_sent' }, [], 'snapshot_sent');
  }

  /** `sandbox`: take the pod out only if it was enrolled with this sandbox (see protocol.ts). */
  async del(uid: string, sandbox?: string): Promise<void> {
    return this.request(sandbox === undefined ? { type: 'del', uid } : { type: 'del', uid, sandbox }, [], `del ${uid}`);
  }

  /** Idempotent; requests still waiting reject with CLOSED. */
  close(): void {
    this.end(new EnrollmentError(LOCAL_CLOSE, 'the enrollment client was closed'));
  }

  private hello(client: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.end(this.timeout('hello'));
      }, this.timeoutMs);
      this.onHello = (err) => {
        clearTimeout(timer);
        this.onHello = undefined;
        if (err) reject(err);
        else resolve();
      };
      this.socket.start({
        message: (data, fds) => this.receive(data, fds),
        error: (err) => this.end(protocolError(`the agent sent a message this client cannot read: ${err.message}`)),
        close: (err) =>
          this.end(
            new EnrollmentError(EnrollmentErrorCodes.CLOSED, 'the agent closed the enrollment connection', null, { cause: err }),
          ),
      });
      try {
        this.send({ type: 'hello', version: ENROLLMENT_PROTOCOL_VERSION, client });
      } catch (err) {
        // A refused client may find the connection closed already: the refusal, still to be read, says why.
        if (!(err instanceof EnrollmentError && err.code === EnrollmentErrorCodes.CLOSED)) this.end(err as EnrollmentError);
      }
    });
  }

  private request(req: Request, fds: number[], what: string): Promise<void> {
    if (this.ended) return Promise.reject(this.closedError(what));
    const id = String(this.nextId++);
    this.send({ ...req, id } as ClientMessage, fds); // throws (rejects the caller's promise) on a bad request
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(this.timeout(what));
      }, this.timeoutMs);
      this.pending.set(id, { what, resolve, reject, timer });
    });
  }

  /**
   * Sends one message (a send that would block is queued by the socket, in order). A bad request
   * (too large, a bad fd) throws its own error. When the agent has gone, this throws CLOSED but does
   * not end the client: what the agent sent before leaving (a refusal, say) is still to be read,
   * and the close that follows it ends the client with the right reason.
   */
  private send(msg: ClientMessage, fds: number[] = []): void {
    const data = encodeMessage(msg);
    try {
      this.socket.send(data, fds);
    } catch (err) {
      if (!this.socket.closed && !(isSystemError(err) && CONNECTION_GONE.has(err.code))) throw err; // the request's fault
      throw new EnrollmentError(EnrollmentErrorCodes.CLOSED, `cannot send ${msg.type}: the agent closed the connection`, null, {
        cause: err,
      });
    }
  }

  private receive(data: Buffer, fds: number[]): void {
    for (const fd of fds) closeQuietly(fd); // the agent never sends fds
    let msg: AgentMessage;
    try {
      msg = parseAgentMessage(data);
    } catch (err) {
      return this.end(err as EnrollmentError);
    }
    if (this.onHello) {
      if (msg.type === 'hello' && msg.version === ENROLLMENT_PROTOCOL_VERSION) {
        this.agentNode = msg.node;
        return this.onHello();
      }
      if (msg.type === 'hello') {
        return this.end(
          new EnrollmentError(
            EnrollmentErrorCodes.VERSION,
            `the agent speaks enrollment protocol version ${msg.version}, this client ${ENROLLMENT_PROTOCOL_VERSION}`,
          ),
        );
      }
    }
    switch (msg.type) {
      case 'ack':
        return this.settle(msg.id, null);
      case 'nack':
        // A nack naming no request refuses the session itself (not root, bad version, ...).
        if (msg.id === null) return this.end(new EnrollmentError(msg.code, msg.reason));
        return this.settle(msg.id, new EnrollmentError(msg.code, msg.reason, msg.id));
      case 'hello':
        return this.end(protocolError('the agent sent hello twice'));
    }
  }

  /** Answers a request; an answer to one that timed out is ignored. */
  private settle(id: string, err: EnrollmentError | null): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve();
  }

  private end(reason: EnrollmentError): void {
    if (this.ended) return;
    this.ended = reason;
    this.socket.close();
    this.onHello?.(reason.code === LOCAL_CLOSE ? this.closedError('hello') : reason);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(reason.code === LOCAL_CLOSE ? this.closedError(p.what) : reason);
    }
    for (const w of this.endWaiters.splice(0)) w(reason.code === LOCAL_CLOSE ? null : reason);
  }

  private closedError(what: string): EnrollmentError {
    const why = this.ended && this.ended.code !== LOCAL_CLOSE ? `: ${this.ended.reason}` : '';
    return new EnrollmentError(EnrollmentErrorCodes.CLOSED, `${what}: the enrollment connection is closed${why}`, null, {
      cause: this.ended,
    });
  }

  private timeout(what: string): EnrollmentError {
    return new EnrollmentError(
      EnrollmentErrorCodes.TIMEOUT,
      `the agent did not answer ${what} within ${this.timeoutMs} ms; is it overloaded or stuck? (see its log)`,
    );
  }
}

/** Marks an end the caller asked for, so it is reported as CLOSED (or null), not as a failure. */
const LOCAL_CLOSE = 'local-close';
const CONNECTION_GONE = new Set(['EPIPE', 'ECONNRESET', 'ENOTCONN']);

function protocolError(reason: string): EnrollmentError {
  return new EnrollmentError(EnrollmentErrorCodes.PROTOCOL, reason);
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}

function connectSocket(socketPath: string): SeqpacketSocket {
  try {
    return SeqpacketSocket.connect(socketPath);
  } catch (err) {
    if (!isSystemError(err)) throw err;
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
      throw new EnrollmentError(
        EnrollmentErrorCodes.UNAVAILABLE,
        `no agent listens on ${socketPath} (${err.code}); is the agent running?`,
        null,
        { cause: err },
      );
    }
    if (err.code === 'EACCES' || err.code === 'EPERM') {
      throw new EnrollmentError(
        EnrollmentErrorCodes.FORBIDDEN,
        `${err.code} on ${socketPath}: enrolling pods needs root`,
        null,
        { cause: err },
      );
    }
    throw err;
  }
}
