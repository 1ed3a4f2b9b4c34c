/**
 * Recovers where a captured connection was going. The connect4/6 programs
 * record the destination under the client socket's cookie and sockops re-keys
 * it by (pod netns cookie, client address, client port) — exactly what the
 * agent sees of the peer of a socket it accepted on 15001.
 */
import type net from 'node:net';
import { Native, socketFd, type BpfMap } from '../../common/native/addon';
import { decodeOrigDst, encodeFlowKey, type OrigDst } from '../../common/native/abi';

export interface OrigDstLookup {
  /** The original destination of a connection accepted on the outbound listener, or null. */
  lookup(socket: net.Socket): OrigDst | null;
}

export class BpfOrigDstLookup implements OrigDstLookup {
  constructor(private readonly origDst: BpfMap) {}

  lookup(socket: net.Socket): OrigDst | null {
    return this.lookupFd(socketFd(socket));
  }

  lookupFd(fd: number): OrigDst | null {
    const info = Native.socketInfo(fd);
    if (!info.remote) return null;
    const value = this.origDst.lookup(encodeFlowKey(info.netnsCookie, info.remote.address, info.remote.port));
    return value ? decodeOrigDst(value) : null;
  }
}
