/**
 * The request body, buffered when it is small so a retry or a mirror can send it again (Envoy's
 * per-request buffer limit does the same); a larger or streaming body (gRPC streams, uploads) is
 * passed through as it arrives and the request gets one attempt.
 */
import { PassThrough, Readable } from 'node:stream';
import type { DownstreamRequest } from '../listener/http-front';

export const BODY_BUFFER_LIMIT = 1024 * 1024;

/** True when the request carries no body (no length, no chunking, or an HTTP/2 stream ended with its headers). */
export function hasNoBody(req: DownstreamRequest): boolean {
  const h2 = (req as { stream?: { endAfterHeaders?: boolean } }).stream;
  if (h2 && h2.endAfterHeaders) return true;
  const len = req.headers['content-length'];
  if (len !== undefined) return Number(len) === 0;
  return req.headers['transfer-encoding'] === undefined && req.httpVersionMajor === 1;
}

export interface RequestBody {
  /** The whole body, when it fit; undefined when there is none or it streams. */
  readonly buffer?: Buffer;
  /** The body as a stream (what was read so far, then the rest). */
  readonly stream?: Readable;
  /** Bytes read so far (and, for a stream, counted as they pass). */
  bytes: () => number;
}

export function readBody(req: DownstreamRequest, buffer: boolean, limit = BODY_BUFFER_LIMIT): Promise<RequestBody> {
  if (hasNoBody(req)) return Promise.resolve({ bytes: () => 0 });
  let count = 0;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (!buffer || declared > limit) {
    const counted = new PassThrough();
    req.on('data', (c: Buffer) => (count += c.length));
    (req as Readable).pipe(counted);
    abortWith(req, counted);
    return Promise.resolve({ stream: counted, bytes: () => count });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer): void => {
      count += c.length;
      chunks.push(c);
      if (count > limit) {
        // Too big to keep: send what we have, then the rest, as one stream.
        req.off('data', onData);
        req.off('end', onEnd);
        req.pause();
        const rest = new PassThrough();
        abortWith(req, rest);
        for (const b of chunks) rest.write(b);
        req.on('data', (x: Buffer) => (count += x.length));
        (req as Readable).pipe(rest);
        req.resume();
        resolve({ stream: rest, bytes: () => count });
      }
    };
    const onEnd = (): void => resolve({ buffer: Buffer.concat(chunks), bytes: () => count });
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
    req.once('aborted', () => reject(new Error('the client aborted the request')));
  });
}

/** A client that goes away mid-body must fail the upstream request, not leave it waiting for bytes. */
function abortWith(req: DownstreamRequest, body: PassThrough): void {
  req.once('close', () => {
    if (!req.complete) body.destroy(new Error('the client aborted the request body'));
  });
}
