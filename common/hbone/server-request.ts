/**
 * One inbound HBONE tunnel request, as the server hands it to `onTunnel`: the validated
 * destination, the client's verified identity, the tunnel headers and the TCP connection's
 * addresses. The handler answers exactly once: accept() (200, then the stream carries the bytes)
 * or reject(status, reason) (the reason travels in the `ambit-error` header).
 */
import http2, { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { SpiffeId } from '../identity/spiffe';
import { Authority, parseAuthority } from './authority';
import { HboneError, HboneErrorCodes } from './errors';
import { HBONE_ERROR_HEADER, headerSafeReason, TunnelHeaders, tunnelHeadersOf } from './headers';

/** The addresses of the TCP connection a tunnel arrived on (local = the pod's own, with sk_lookup). */
export interface ConnectionAddresses {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

const { NGHTTP2_NO_ERROR } = http2.constants;

export class HboneRequest implements ConnectionAddresses {
  private answered = false;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(
    /** Where the client wants its bytes to go. */
    readonly authority: Authority,
    /** The client's identity, from its verified certificate. */
    readonly peer: SpiffeId,
    readonly headers: TunnelHeaders,
    connection: ConnectionAddresses,
    /** The CONNECT stream; after accept() it is the tunnel. */
    readonly stream: ServerHttp2Stream,
  ) {
    this.localAddress = connection.localAddress;
    this.localPort = connection.localPort;
    this.remoteAddress = connection.remoteAddress;
    this.remotePort = connection.remotePort;
  }

  /** Whether accept() or reject() was called. */
  get settled(): boolean {
    return this.answered;
  }

  /**
   * Answers 200 and returns the stream to relay. Throws HboneError STREAM_CLOSED when the client
   * went away meanwhile (reset the upstream connection then).
   */
  accept(): ServerHttp2Stream {
    this.claim('accept');
    if (this.stream.closed || this.stream.destroyed) {
      throw new HboneError(
        HboneErrorCodes.STREAM_CLOSED,
        `the tunnel to ${this.authority.host}:${this.authority.port} from ${this.peer.uri} was closed by the client before it was accepted`,
      );
    }
    this.stream.respond({ ':status': 200 });
    return this.stream;
  }

  /** Refuses the tunnel with `status` (4xx/5xx) and a reason the client will see. */
  reject(status: number, reason: string): void {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new HboneError(HboneErrorCodes.INVALID_OPTION, `reject() takes a 4xx or 5xx status, got ${status}`);
    }
    this.claim('reject');
    respondWithError(this.stream, status, reason);
  }

  private claim(what: string): void {
    if (this.answered) {
      throw new HboneError(HboneErrorCodes.INVALID_OPTION, `${what}() on a tunnel request that was already answered`);
    }
    this.answered = true;
  }
}

/**
 * An error response with the reason header and no body, then RST_STREAM(NO_ERROR): RFC 9113
 * §8.1 lets a server that has answered stop the client's upload without signalling an error.
 * Node sends the RST only after the response went out.
 */
export function respondWithError(
  stream: ServerHttp2Stream,
  status: number,
  reason: string,
  extra: Record<string, string> = {},
): void {
  if (stream.closed || stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': status, [HBONE_ERROR_HEADER]: headerSafeReason(reason), ...extra }, { endStream: true });
  stream.close(NGHTTP2_NO_ERROR);
}

/**
 * The request a stream carries, or undefined after answering it here: 405 for a method other than
 * CONNECT, 400 for a malformed CONNECT or an :authority that is not `ip:port`.
 */
export function admitRequest(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  peer: SpiffeId,
  addresses: ConnectionAddresses,
): HboneRequest | undefined {
  const method = headers[':method'];
  if (method !== 'CONNECT') {
    respondWithError(stream, 405, `method ${String(method)} is not allowed; HBONE accepts CONNECT only`, { allow: 'CONNECT' });
    return undefined;
  }
  // RFC 9113 §8.5: a CONNECT has no :path or :scheme; :protocol would be RFC 8441's extended CONNECT.
  if (headers[':path'] !== undefined || headers[':scheme'] !== undefined || headers[':protocol'] !== undefined) {
    respondWithError(stream, 400, 'CONNECT must carry :authority only, not :path, :scheme or :protocol');
    return undefined;
  }
  let authority: Authority;
  try {
    authority = parseAuthority(String(headers[':authority'] ?? ''));
  } catch (err) {
    respondWithError(stream, 400, (err as Error).message);
    return undefined;
  }
  return new HboneRequest(authority, peer, tunnelHeadersOf(headers), addresses, stream);
}
