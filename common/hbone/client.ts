/**
 * The CONNECT request that opens one tunnel on an established HBONE session (RFC 9113 §8.5):
 * :method CONNECT and :authority only, plus the tunnel headers. The tunnel is usable once the
 * server answered 200; any other status is an HboneError carrying the status and the server's
 * `ambit-error` reason.
 */
import http2, { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { HboneError, HboneErrorCodes } from './errors';
import { HBONE_ERROR_HEADER, tunnelHeaderEntries, TunnelHeaders } from './headers';

const { NGHTTP2_REFUSED_STREAM } = http2.constants;

/**
 * Sends CONNECT `authority` on `session` and resolves with the stream after a 200. `where` names
 * the peer in error messages.
 */
export function requestTunnel(
  session: ClientHttp2Session,
  authority: string,
  headers: TunnelHeaders | undefined,
  where: string,
  /** Called with the stream as soon as it exists, before any outcome (for accounting). */
  onStream?: (stream: ClientHttp2Stream) => void,
): Promise<ClientHttp2Stream> {
  return new Promise((resolve, reject) => {
    let stream: ClientHttp2Stream;
    try {
      stream = session.request({ ':method': 'CONNECT', ':authority': authority, ...tunnelHeaderEntries(headers) }, { endStream: false });
    } catch (err) {
      // The session began closing (GOAWAY) after it was picked: nothing reached the server.
      reject(
        new HboneError(HboneErrorCodes.STREAM, `could not open a tunnel to ${authority} via ${where}: ${(err as Error).message}`, {
          cause: err,
          retryable: session.closed || session.destroyed,
        }),
      );
      return;
    }
    // Errors after the answer surface through 'close' and rstCode, or through relay(); this listener
    // only keeps one emitted before the caller attached its own from being uncaught.
    stream.on('error', () => undefined);
    onStream?.(stream);

    const settle = (): void => {
      stream.off('response', onResponse);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onResponse = (h: IncomingHttpHeaders): void => {
      settle();
      const status = Number(h[':status']);
      if (status === 200) {
        resolve(stream);
        return;
      }
      const raw = h[HBONE_ERROR_HEADER];
      const reason = Array.isArray(raw) ? raw.join(', ') : raw;
      stream.close();
      reject(
        new HboneError(
          HboneErrorCodes.REJECTED,
          `tunnel to ${authority} via ${where} refused with status ${status}${reason ? `: ${reason}` : ' (no reason given)'}`,
          { status, reason },
        ),
      );
    };
    const failed = (err?: Error): void => {
      settle();
      const refused = stream.rstCode === NGHTTP2_REFUSED_STREAM;
      const why = err?.message ?? (stream.rstCode ? `stream reset with code ${stream.rstCode}` : 'stream closed');
      reject(
        new HboneError(HboneErrorCodes.STREAM, `tunnel to ${authority} via ${where} failed before a response: ${why}`, {
          cause: err,
          // REFUSED_STREAM (e.g. above a GOAWAY's last stream ID) guarantees the server did nothing.
          retryable: refused,
        }),
      );
    };
    const onError = (err: Error): void => failed(err);
    const onClose = (): void => failed();
    stream.once('response', onResponse);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}
