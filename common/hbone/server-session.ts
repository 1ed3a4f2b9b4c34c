/**
 * One inbound HBONE connection as the server sees it: who the client is (decided on the TLS
 * socket, before HTTP/2 runs), the TCP addresses, stream counts, rapid-reset accounting, and its
 * open/close events on the diagnostics channels.
 */
import type { ServerHttp2Session } from 'node:http2';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Diagnostics } from '../diagnostics';
import type { SpiffeId } from '../identity/spiffe';
import { checkPeerIdentity, peerSpiffeId } from '../tls/peer-identity';
import { ResetRateLimiter } from './reset-limiter';
import type { ConnectionAddresses } from './server-request';

export interface SessionState {
  readonly peer: SpiffeId;
  readonly addresses: ConnectionAddresses;
  readonly resets: ResetRateLimiter;
  /** Open streams. */
  streams: number;
  /** Streams received over the session's life. */
  streamsSeen: number;
  /** GOAWAY ENHANCE_YOUR_CALM was sent. */
  calmed: boolean;
}

/** What judgeClient found out about a connection's client certificate. */
export interface PeerVerdict {
  /** The real TLS socket (a session only exposes a proxy that may not be destroyed). */
  readonly socket: TLSSocket;
  readonly peer?: SpiffeId;
  readonly error?: Error;
}

const PEER_VERDICT = Symbol('ambit.hbone.peerVerdict');
type JudgedSocket = TLSSocket & { [PEER_VERDICT]?: PeerVerdict };

/**
 * Names the client of a fresh TLS connection and keeps the verdict on the socket. Runs on
 * 'secureConnection' before Node's HTTP/2 listener, while we still hold the real socket; the
 * session's socket proxy passes property reads through, so verdictOf(session) finds it.
 */
export function judgeClient(socket: TLSSocket, trustDomains: readonly string[]): void {
  let verdict: PeerVerdict;
  try {
    verdict = { socket, peer: checkPeerIdentity(peerSpiffeId(socket), { trustDomains }) };
  } catch (err) {
    verdict = { socket, error: err as Error };
  }
  (socket as JudgedSocket)[PEER_VERDICT] = verdict;
}

export function verdictOf(session: ServerHttp2Session): PeerVerdict | undefined {
  return (session.socket as JudgedSocket)[PEER_VERDICT];
}

/** Read once, at session start: the socket is gone when the session closes. */
export function addressesOf(session: ServerHttp2Session): ConnectionAddresses {
  const socket = session.socket;
  return {
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
  };
}

export function newSessionState(peer: SpiffeId, addresses: ConnectionAddresses, maxResetsPerSecond: number): SessionState {
  return { peer, addresses, resets: new ResetRateLimiter(maxResetsPerSecond), streams: 0, streamsSeen: 0, calmed: false };
}

let sessionIds = 0;

/** Publishes the session on the tunnelOpen channel now and on tunnelClose when it closes. */
export function publishSessionLifecycle(session: ServerHttp2Session, state: SessionState, localIdentity: string): void {
  const id = `hbone-in-${++sessionIds}`;
  const { remoteAddress, remotePort } = state.addresses;
  const peer = net.isIPv6(remoteAddress) ? `[${remoteAddress}]:${remotePort}` : `${remoteAddress}:${remotePort}`;
  const startTime = Date.now();
  let lastError: Error | undefined;
  session.on('error', (err) => (lastError = err));
  Diagnostics.tunnelOpen.publishWith(() => ({
    id,
    direction: 'inbound',
    peer,
    localIdentity,
    peerIdentity: state.peer.uri,
    startTime,
  }));
  session.once('close', () =>
    Diagnostics.tunnelClose.publishWith(() => ({
      id,
      direction: 'inbound',
      peer,
      durationMs: Date.now() - startTime,
      streams: state.streamsSeen,
      error: lastError?.message,
    })),
  );
}
