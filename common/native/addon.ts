/**
 * The one module that loads ambit_native.node and gives it types. Everything
 * else imports from here; arguments are validated before they cross.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { AmbitError, ErrorCodes } from '../errors';
import { projectRoot } from '../project-root';

export { projectRoot };

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
  createSocket(options: SocketOptions): Promise<number>;
  netnsCookie(netnsFd: number): Promise<bigint>;
  socketInfo(fd: number): SocketInfo;
  checkNetnsFd(netnsFd: number): void;
  abiLayout(): AbiLayout;
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

  /** A TCP socket created inside a network namespace; returns its fd for net.Server/net.Socket. */
  async createSocket(options: SocketOptions): Promise<number> {
    if (options.family !== 4 && options.family !== 6) {
      throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `family must be 4 or 6, got ${String(options.family)}`);
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
