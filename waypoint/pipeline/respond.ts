/**
 * respond: the upstream's response to the client. Hop-by-hop headers are dropped, the route's
 * ResponseHeaderModifier and the waypoint's own headers (a consistent-hash cookie) applied, the
 * body streamed with backpressure, and trailers passed on (gRPC's status travels there). gRPC
 * status is read from the headers (trailers-only responses) or the trailers, for telemetry.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { endToEndHeaders } from './hop-by-hop';
import type { Exchange } from './exchange';
import type { Upstreamed } from './upstream-stage';

export function respond(ex: Exchange, up: Upstreamed): Promise<void> {
  const { response } = up;
  const headers = endToEndHeaders(response.headers) as Record<string, string | string[] | undefined>;
  for (const [k, v] of Object.entries(ex.responseHeaders)) headers[k] = v;
  for (const f of ex.responseHeaderFilters) f(headers);
  if (ex.facts.protocol === 'HTTP/2') delete headers['content-length'];
  ex.status = response.status;
  const grpcHeader = response.headers['grpc-status'];
  if (grpcHeader !== undefined) ex.grpcStatus = Number(grpcHeader);
  const clean: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) clean[k] = v;
  return new Promise((resolve) => {
    const res = ex.res as ServerResponse;
    if (ex.done || res.destroyed) {
      // The client went away while the upstream was answering: give the slot and endpoint back.
      ex.flag('DC');
      response.abort();
      up.finish();
      resolve();
      return;
    }
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      up.finish();
      resolve();
    };
    // An HTTP/2 response whose HEADERS frame ended the stream (gRPC's trailers-only answer, the
    // usual form of a gRPC error) has already emitted 'end' and 'close'. It is passed on the same
    // way: headers set and end() without writeHead, which the HTTP/2 compat API sends as one
    // HEADERS frame with END_STREAM; after writeHead it would send HEADERS then an empty DATA
    // frame, and gRPC clients then find no status ("Call ended without gRPC status").
    const ended = response.body.readableEnded;
    try {
      if (ended) {
        res.statusCode = response.status;
        for (const [k, v] of Object.entries(clean)) res.setHeader(k, v);
      } else {
        res.writeHead(response.status, clean);
      }
    } catch (e) {
      // A header the client side cannot carry (e.g. invalid characters): fail the request cleanly.
      response.abort();
      ex.error = { code: 'AMBIT_ERR_UPSTREAM_FAILURE', message: `invalid response head from upstream: ${(e as Error).message}` };
      res.destroy();
      finish();
      return;
    }
    response.body.on('data', (chunk: Buffer) => {
      ex.responseBytes += chunk.length;
      if (!res.write(chunk)) {
        response.body.pause();
        res.once('drain', () => response.body.resume());
      }
    });
    const onEnd = (): void => {
      const trailers = response.trailers();
      try {
        if (trailers && Object.keys(trailers).length > 0) {
          // Hop-by-hop names are as forbidden in trailers as in headers (HTTP/2 would throw).
          const t = endToEndHeaders(trailers) as IncomingHttpHeaders;
          if (t['grpc-status'] !== undefined) ex.grpcStatus = Number(t['grpc-status']);
          (res as unknown as Http2ServerResponse).addTrailers(t as never);
        }
        res.end();
      } catch (e) {
        ex.error = { code: 'AMBIT_ERR_UPSTREAM_FAILURE', message: `invalid trailers from upstream: ${(e as Error).message}` };
        res.destroy();
      }
      finish();
    };
    if (ended) {
      onEnd();
      return;
    }
    if (response.body.destroyed) {
      res.destroy();
      finish();
      return;
    }
    response.body.once('end', onEnd);
    response.body.once('error', () => {
      ex.flag('UPE');
      res.destroy();
      finish();
    });
    response.body.once('close', () => {
      if (!response.body.readableEnded) {
        res.destroy();
        finish();
      }
    });
    res.once('close', () => {
      if (!res.writableFinished) {
        ex.flag('DC');
        response.abort();
      }
      finish();
    });
  });
}
