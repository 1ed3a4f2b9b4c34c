/**
 * One HBONE client connection: dial (the caller's socket factory, so the agent can create the
 * socket inside a pod's network namespace) -> mutual TLS 1.3 with the source workload's
 * certificate, the server named by its SPIFFE ID -> HTTP/2 with MiB windows. Ready once the
 * server's SETTINGS arrived: in TLS 1.3 the server checks our certificate after our side of the
 * handshake has finished, so its first bytes are the proof it accepted us, and a refusal shows
 * up here instead of on the first tunnel.
 */
import http2, { ClientHttp2Session } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { SpiffeId } from '../identity/spiffe';
import type { WorkloadCertificate } from '../identity/workload-certificate';
import { TlsError } from '../tls/errors';
import { workloadClientTlsOptions } from '../tls/options';
import { checkPeerIdentity, peerSpiffeId } from '../tls/peer-identity';
import { HboneError, HboneErrorCodes } from './errors';
import { sessionMemoryMb } from './settings';

/** Makes a connected TCP socket to address:port (the agent's comes from the netns socket factory). */
export type DialFn = (address: string, port: number) => Promise<net.Socket>;

export const defaultDial: DialFn = (address, port) =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port, noDelay: true });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });

export interface ConnectOptions {
  readonly source: WorkloadCertificate;
  readonly address: string;
  readonly port: number;
  /** Accepted server identities (validated SPIFFE URIs). */
  readonly expected: readonly string[];
  readonly dial: DialFn;
  readonly connectTimeoutMs: number;
  readonly streamWindowBytes: number;
  readonly connectionWindowBytes: number;
  readonly signal?: AbortSignal;
}

export interface HboneConnection {
  readonly session: ClientHttp2Session;
  readonly peer: SpiffeId;
  /** When the first of our certificate and the server's expires: no new tunnels after that. */
  readonly notAfter: Date;
}

/** Resolves with a ready session; rejects with HboneError, or TlsError for an identity refusal. */
export function connectHbone(opts: ConnectOptions): Promise<HboneConnection> {
  const where = `${opts.address}:${opts.port}`;
  return new Promise((resolve, reject) => {
    let done = false;
    let raw: net.Socket | undefined;
    let secure: tls.TLSSocket | undefined;
    let session: ClientHttp2Session | undefined;

    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      cleanup();
      session?.destroy();
      secure?.destroy();
      raw?.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(
          new HboneError(
            HboneErrorCodes.CONNECT_TIMEOUT,
            `HBONE connection to ${where} was not ready within ${opts.connectTimeoutMs} ms; ` +
              `is a NetworkPolicy or firewall blocking port ${opts.port}?`,
          ),
        ),
      opts.connectTimeoutMs,
    );
    const onAbort = (): void => fail(new HboneError(HboneErrorCodes.CLOSED, `HBONE connection to ${where} abandoned: the pool was closed`));
    const cleanup = (): void => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort);

    const onSecureConnect = (): void => {
      if (done || secure === undefined) return;
      let peer: SpiffeId;
      try {
        if (secure.alpnProtocol !== 'h2') {
          throw new HboneError(HboneErrorCodes.HANDSHAKE, `${where} did not negotiate HTTP/2 (ALPN h2); is it an HBONE port?`);
        }
        // checkServerIdentity ran already; checked again because Node skips it on resumed sessions.
        peer = checkPeerIdentity(peerSpiffeId(secure), { identities: opts.expected });
      } catch (err) {
        return fail(err as Error);
      }
      const tlsSocket = secure;
      // Wait for the server's first bytes (its SETTINGS) before HTTP/2 takes the socket over: in
      // TLS 1.3 the server judges our certificate after our handshake finished. A refusal is a
      // TLS alert (no certificate: surfaces as a TLS error naming it while we still read the
      // socket) or, when Node's server rejects the chain, a close without any alert.
      const closedEarly = (): void =>
        fail(new HboneError(HboneErrorCodes.HANDSHAKE, `${where} closed the connection before HTTP/2 was set up; ${REFUSED_HINT}`));
      const onReadable = (): void => {
        if (tlsSocket.readableLength === 0) {
          tlsSocket.read(0); // at EOF: lets 'end' and 'close' follow
          return;
        }
        tlsSocket.off('readable', onReadable);
        tlsSocket.off('close', closedEarly);
        startSession(tlsSocket, peer);
      };
      tlsSocket.on('readable', onReadable);
      tlsSocket.once('close', closedEarly);
    };

    const startSession = (tlsSocket: tls.TLSSocket, peer: SpiffeId): void => {
      if (done) return;
      // Bytes already read are handed to the session by Node on the next tick.
      session = http2.connect(`https://${net.isIPv6(opts.address) ? `[${opts.address}]` : opts.address}:${opts.port}`, {
        createConnection: () => tlsSocket,
        settings: { enablePush: false, initialWindowSize: opts.streamWindowBytes },
        maxSessionMemory: sessionMemoryMb(opts.connectionWindowBytes),
      });
      // Permanent: later errors are handled by whoever owns the session through 'close'.
      session.on('error', (err) => fail(handshakeError(where, err)));
      session.once('close', () =>
        fail(new HboneError(HboneErrorCodes.HANDSHAKE, `${where} closed the connection before HTTP/2 was set up; ${REFUSED_HINT}`)),
      );
      session.once('remoteSettings', () => {
        if (done || session === undefined) return;
        done = true;
        cleanup();
        session.setLocalWindowSize(opts.connectionWindowBytes);
        const peerCert = tlsSocket.getPeerCertificate();
        const peerNotAfter = peerCert.valid_to ? new Date(peerCert.valid_to) : opts.source.notAfter;
        const notAfter = peerNotAfter < opts.source.notAfter ? peerNotAfter : opts.source.notAfter;
        resolve({ session, peer, notAfter });
      });
    };

    opts.dial(opts.address, opts.port).then(
      (socket) => {
        raw = socket;
        if (done) {
          socket.destroy();
          return;
        }
        try {
          secure = tls.connect({ socket, ...workloadClientTlsOptions(opts.source, { identities: opts.expected }) });
        } catch (err) {
          return fail(err as Error);
        }
        secure.on('error', (err) => fail(handshakeError(where, err)));
        secure.once('secureConnect', onSecureConnect);
      },
      (err: Error) =>
        fail(
          new HboneError(
            HboneErrorCodes.CONNECT,
            `could not connect to ${where}: ${err.message}; is the destination node's agent running and port ${opts.port} reachable?`,
            { cause: err },
          ),
        ),
    );
  });
}

const REFUSED_HINT = 'the peer may not accept our certificate (trust domain, CA, expiry): check its logs';

/** OpenSSL verification results and TLS alerts, turned into what an operator should check. */
function handshakeError(where: string, err: Error): Error {
  if (err instanceof TlsError || err instanceof HboneError) return err;
  const code = String((err as { code?: unknown }).code ?? '');
  let hint: string;
  if (code === 'CERT_HAS_EXPIRED') hint = "the peer's certificate has expired";
  else if (code === 'CERT_NOT_YET_VALID') hint = "the peer's certificate is not valid yet; are both clocks right?";
  else if (/SELF_SIGNED|UNABLE_TO_(GET_ISSUER|VERIFY_LEAF)|CERT_SIGNATURE_FAILURE|INVALID_PURPOSE/.test(code)) {
    hint = "the peer's certificate does not chain to our trust bundle (another trust domain or CA?)";
  } else if (/ALERT/.test(code) || code === 'ECONNRESET') hint = REFUSED_HINT;
  else hint = 'check both sides\' certificates and logs';
  return new HboneError(HboneErrorCodes.HANDSHAKE, `mTLS with ${where} failed: ${err.message}${code ? ` (${code})` : ''}; ${hint}`, {
    cause: err,
  });
}
