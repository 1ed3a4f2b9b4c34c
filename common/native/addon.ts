/**
 * The one module that loads ambit_native.node and gives it types. Everything
 * else imports from here; arguments are validated before they cross.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { AmbitError, ErrorCodes, type SystemErrorShape } from '../errors';
import { projectRoot } from '../project-root';

export { projectRoot };

/** What the kernel reports about a link (BpfLink.info()). */
export interface BpfLinkInfo {
  id: number;
  /** 'cgroup', 'netns', 'sockmap', or 'type <n>' for kinds Ambit does not make. */
  type: string;
  progId: number;
  attachType?: number;
  /** cgroup links: the cgroup's id (0 once the cgroup is gone). */
  cgroupId?: bigint;
  /** netns links: the namespace's inode (0 once the namespace is gone). */
  netnsIno?: number;
  /** sockmap links: the map's id. */
  mapId?: number;
}

export interface BpfLink {
  readonly fd: number;
  readonly id: number | null;
  readonly description: string;
  readonly pinPath: string | null;
  readonly closed: boolean;
  /** Keep the attachment beyond this process (bpffs path). */
  pin(path: string): void;
  unpin(): void;
  /** End the attachment even when pinned. Idempotent. */
  detach(): void;
  /** Release this process's handle; the attachment ends unless pinned. Idempotent. */
  close(): void;
  /**
   * Swap the program this link runs for `program` (loaded) in one step (BPF_LINK_UPDATE): no
   * moment without a program, none with both. EINVAL/ENOTSUP: the kernel cannot swap programs
   * on this link type, or the program does not fit it; attach anew instead.
   */
  updateProgram(program: BpfProgram): void;
  info(): BpfLinkInfo;
}

export interface BpfMapInfo {
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  /** Bytes of one lookup result: valueSize, or per-CPU slots for per-CPU maps. */
  valueBytes: number;
  maxEntries: number;
  fd: number;
  /** The kernel's map id; null before load. */
  id: number | null;
  possibleCpus: number;
  pinPath: string | null;
  pinned: boolean;
}

export interface BpfMap {
  lookup(key: Buffer): Buffer | null;
  update(key: Buffer, value: Buffer, flags?: number): void;
  /** True when an entry was removed. */
  delete(key: Buffer): boolean;
  keys(): Buffer[];
  /** Before load: reuse the map pinned there, or pin the new one there. */
  setPinPath(path: string): void;
  pin(path: string): void;
  unpin(path?: string): void;
  info(): BpfMapInfo;
}

export interface BpfProgram {
  readonly name: string;
  readonly section: string;
  readonly type: string;
  readonly fd: number;
  attachCgroup(cgroupPath: string): BpfLink;
  attachNetns(netnsFd: number): BpfLink;
  attachSockmap(map: BpfMap): BpfLink;
  setAutoload(enabled: boolean): void;
}

export interface BpfObject {
  readonly path: string;
  readonly loaded: boolean;
  readonly closed: boolean;
  load(): Promise<void>;
  program(name: string): BpfProgram;
  map(name: string): BpfMap;
  programNames(): string[];
  mapNames(): string[];
  /** Before load: set a global such as a `const volatile` knob, by BTF name. */
  setGlobal(name: string, value: Buffer): void;
  close(): void;
}

export interface Endpoint {
  address: string;
  port: number;
  family: 4 | 6;
}

export interface SocketInfo {
  netnsCookie: bigint;
  mark: number;
  local: Endpoint | null;
  remote: Endpoint | null;
}

export interface SocketOptions {
  /** Network namespace to create the socket in; omitted: the caller's. */
  netnsFd?: number;
  family: 4 | 6;
  /** 'tcp' (default) or 'udp': a bound UDP socket for dgram.createSocket(...).bind({ fd }). */
  type?: 'tcp' | 'udp';
  /** Bind address; for listeners defaults to the wildcard. */
  address?: string;
  port?: number;
  listen?: boolean;
  backlog?: number;
  reusePort?: boolean;
  /** SO_MARK, e.g. AGENT_SOCKET_MARK. */
  mark?: number;
}

export interface AbiLayout {
  structs: Record<string, { size: number; fields: Record<string, { offset: number; size: number }> }>;
  constants: Record<string, number>;
}

interface NativeBinding {
  BpfObject: new (path: string) => BpfObject;
  BpfLink: { open(path: string): BpfLink };
  createSocket(options: SocketOptions): Promise<number>;
  netnsCookie(netnsFd: number): Promise<bigint>;
  socketInfo(fd: number): SocketInfo;
  checkNetnsFd(netnsFd: number): void;
  abiLayout(): AbiLayout;
  SeqpacketSocket: new () => NativeSeqpacket;
}

function buildDir(): string {
  return process.env.AMBIT_NATIVE_BUILD_DIR ?? path.join(projectRoot(), 'build', 'Release');
}

/** Path of the linked eBPF object (build/Release/bpf/ambit.bpf.o unless AMBIT_BPF_OBJECT says otherwise). */
export function bpfObjectPath(): string {
  return process.env.AMBIT_BPF_OBJECT ?? path.join(buildDir(), 'bpf', 'ambit.bpf.o');
}

let binding: NativeBinding | undefined;

function load(): NativeBinding {
  if (binding) return binding;
  const file = path.join(buildDir(), 'ambit_native.node');
  if (!fs.existsSync(file)) {
    throw new AmbitError(
      ErrorCodes.NATIVE_NOT_BUILT,
      `the native addon is not built (${file} is missing); run \`npm run build\` or scripts/setup.sh`,
    );
  }
  binding = require(file) as NativeBinding;
  return binding;
}

function checkPort(port: number | undefined, what: string): void {
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `${what} must be an integer 0..65535, got ${port}`);
  }
}

function checkFd(fd: number, what: string): void {
  if (!Number.isInteger(fd) || fd < 0) {
    throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `${what} must be a file descriptor (integer >= 0), got ${fd}`);
  }
}

export const Native = {
  openObject(file: string = bpfObjectPath()): BpfObject {
    return new (load().BpfObject)(file);
  },

  /**
   * The BPF link pinned at `pinPath` on bpffs (e.g. one a previous agent process left attached).
   * Its pinPath is set, so unpin() removes that pin; close() leaves the link attached.
   */
  openPinnedLink(pinPath: string): BpfLink {
    if (typeof pinPath !== 'string' || !path.isAbsolute(pinPath) || pinPath.includes('\0')) {
      throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `pin path must be an absolute path on bpffs, got ${JSON.stringify(pinPath)}`);
    }
    return load().BpfLink.open(pinPath);
  },

  /**
   * A TCP (or UDP) socket created inside a network namespace; returns its fd for
   * net.Server/net.Socket (TCP) or dgram's socket.bind({ fd }) (UDP).
   */
  async createSocket(options: SocketOptions): Promise<number> {
    if (options.family !== 4 && options.family !== 6) {
      throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `family must be 4 or 6, got ${String(options.family)}`);
    }
    if (options.type !== undefined && options.type !== 'tcp' && options.type !== 'udp') {
      throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `type must be 'tcp' or 'udp', got ${String(options.type)}`);
    }
    if (options.type === 'udp' && options.listen) {
      throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, 'listen is for TCP sockets; a UDP socket is only bound');
    }
    if (options.address !== undefined && net.isIP(options.address) !== options.family) {
      throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `address ${options.address} is not an IPv${options.family} address`);
    }
    checkPort(options.port, 'port');
    if (options.netnsFd !== undefined) checkFd(options.netnsFd, 'netnsFd');
    return load().createSocket(options);
  },

  async netnsCookie(netnsFd: number): Promise<bigint> {
    checkFd(netnsFd, 'netnsFd');
    return load().netnsCookie(netnsFd);
  },

  socketInfo(fd: number): SocketInfo {
    checkFd(fd, 'fd');
    return load().socketInfo(fd);
  },

  checkNetnsFd(netnsFd: number): void {
    checkFd(netnsFd, 'netnsFd');
    load().checkNetnsFd(netnsFd);
  },

  abiLayout(): AbiLayout {
    return load().abiLayout();
  },

  socketFdOf(s: net.Socket | net.Server): number {
    return socketFd(s);
  },
};

/** The fd behind a connected net.Socket or listening net.Server (Linux). */
export function socketFd(s: net.Socket | net.Server): number {
  const handle = (s as unknown as { _handle?: { fd?: number } })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, 'socket has no file descriptor (closed, or not a TCP socket)');
  }
  return fd;
}

// ---- unix SOCK_SEQPACKET sockets (native/addon/src/seqpacket.cc) ----
// Node has neither SOCK_SEQPACKET nor SCM_RIGHTS; the agent's enrollment socket needs both.

/** Limits of one message; mirrored from seqpacket.h (the C++ side re-checks). */
export const SEQPACKET_MAX_MESSAGE = 64 * 1024;
export const SEQPACKET_MAX_FDS = 16;

/** SO_PEERCRED of the other end: the peer process as of its connect() (or listen()). */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface SeqpacketHandlers {
  /** Listener: an accepted connection; call start() on it to receive. */
  connection?(socket: SeqpacketSocket): void;
  /** Connection: one message, boundaries kept. The fds are open, CLOEXEC, and the receiver's to close. */
  message?(data: Buffer, fds: number[]): void;
  /** A message was dropped (EMSGSIZE: larger than maxMessage or more than maxFds fds; its fds closed). The socket stays open. */
  error?(err: SystemErrorShape): void;
  /** The peer closed (null; ECONNRESET when it left our messages unread) or the socket failed. Not called for close(). */
  close?(err: SystemErrorShape | null): void;
}

export interface SeqpacketStartOptions {
  /** Largest message accepted, 1..SEQPACKET_MAX_MESSAGE (default the maximum). */
  maxMessage?: number;
  /** Most fds accepted per message, 0..SEQPACKET_MAX_FDS (default the maximum). */
  maxFds?: number;
}

interface NativeSeqpacket {
  readonly fd: number;
  readonly closed: boolean;
  readonly peer: PeerCredentials | null;
  readonly path: string | null;
  readonly queued: number;
  listen(path: string, mode: number, backlog?: number): void;
  connect(path: string): void;
  start(
    handlers: {
      connection?: (s: NativeSeqpacket) => void;
      message?: (data: Buffer, fds: number[]) => void;
      error?: (err: SystemErrorShape) => void;
      close?: (err: SystemErrorShape | null) => void;
    },
    options?: SeqpacketStartOptions,
  ): void;
  send(data: Buffer, fds?: number[]): boolean;
  ref(): void;
  unref(): void;
  close(): void;
}

function checkSocketPath(p: string): void {
  if (typeof p !== 'string' || p.length === 0 || Buffer.byteLength(p) > 107 || p.includes('\0')) {
    throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `socket path must be 1..107 bytes without NUL, got ${JSON.stringify(p)}`);
  }
}

function checkIntRange(v: number | undefined, lo: number, hi: number, what: string): void {
  if (v !== undefined && (!Number.isInteger(v) || v < lo || v > hi)) {
    throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `${what} must be an integer ${lo}..${hi}, got ${String(v)}`);
  }
}

/**
 * A unix SOCK_SEQPACKET socket: listen() for a server, connect() for a client,
 * start() to receive (uv_poll on the JS thread), send() with optional fds.
 * An open, started socket keeps itself alive; close() it (idempotent).
 */
export class SeqpacketSocket {
  private constructor(private readonly native: NativeSeqpacket) {}

  /**
   * Listens on a socket file created with `mode` (set before listen(), so no peer sees another mode).
   * A stale socket file there is replaced; a live listener or a non-socket file is an error.
   * close() removes the file if it is still this listener's.
   */
  static listen(socketPath: string, options: { mode: number; backlog?: number }): SeqpacketSocket {
    checkSocketPath(socketPath);
    checkIntRange(options.mode, 0, 0o777, 'mode');
    if (options.mode === undefined) throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, 'mode is required (e.g. 0o600)');
    checkIntRange(options.backlog, 1, 65535, 'backlog');
    const native = new (load().SeqpacketSocket)();
    try {
      native.listen(socketPath, options.mode, options.backlog);
    } catch (err) {
      native.close();
      throw err;
    }
    return new SeqpacketSocket(native);
  }

  /** Connects to a listener (synchronous: unix connects complete at once). */
  static connect(socketPath: string): SeqpacketSocket {
    checkSocketPath(socketPath);
    const native = new (load().SeqpacketSocket)();
    try {
      native.connect(socketPath);
    } catch (err) {
      native.close();
      throw err;
    }
    return new SeqpacketSocket(native);
  }

  /** -1 once closed. */
  get fd(): number {
    return this.native.fd;
  }
  get closed(): boolean {
    return this.native.closed;
  }
  get peer(): PeerCredentials | null {
    return this.native.peer;
  }
  get path(): string | null {
    return this.native.path;
  }
  /** Messages waiting for the socket buffer to drain. */
  get queued(): number {
    return this.native.queued;
  }

  start(handlers: SeqpacketHandlers, options: SeqpacketStartOptions = {}): void {
    for (const name of ['connection', 'message', 'error', 'close'] as const) {
      if (handlers[name] !== undefined && typeof handlers[name] !== 'function') {
        throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `handlers.${name} must be a function`);
      }
    }
    checkIntRange(options.maxMessage, 1, SEQPACKET_MAX_MESSAGE, 'maxMessage');
    checkIntRange(options.maxFds, 0, SEQPACKET_MAX_FDS, 'maxFds');
    const { connection, message, error, close } = handlers;
    this.native.start(
      {
        connection: connection && ((s: NativeSeqpacket) => connection(new SeqpacketSocket(s))),
        message,
        error,
        close,
      },
      options,
    );
  }

  /**
   * Sends one message with optional fds (SCM_RIGHTS). True when sent now, false when queued
   * behind a full socket buffer (sent in order later). The caller keeps its fds either way.
   */
  send(data: Buffer, fds: readonly number[] = []): boolean {
    if (!Buffer.isBuffer(data) || data.length === 0 || data.length > SEQPACKET_MAX_MESSAGE) {
      throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `data must be a Buffer of 1..${SEQPACKET_MAX_MESSAGE} bytes`);
    }
    if (fds.length > SEQPACKET_MAX_FDS) {
      throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `at most ${SEQPACKET_MAX_FDS} fds per message, got ${fds.length}`);
    }
    fds.forEach((fd, i) => checkFd(fd, `fds[${i}]`));
    return this.native.send(data, [...fds]);
  }

  /** Let the process exit while this socket is open (like net.Socket#unref). */
  unref(): this {
    this.native.unref();
    return this;
  }
  ref(): this {
    this.native.ref();
    return this;
  }

  /** Idempotent. A listener also removes its socket file (if still its own). */
  close(): void {
    this.native.close();
  }
}
