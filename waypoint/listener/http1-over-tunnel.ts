/**
 * HTTP/1 carried on an HTTP/2 stream (an HBONE tunnel, both towards the client and towards an
 * endpoint) must not use the stream's batched write. Node 20's Http2Stream._writev loses the copied
 * string data of a batch that ends in a zero-length chunk, and node:http ends every Content-Length
 * message with exactly such a batch (head and body as a string, then ''): the peer received freed
 * heap memory in place of the status or request line (v20.20.2: the waypoint's own 403 arrived as
 * 16 bytes of allocator pointers followed by "bidden\r\n...", and a POST with a body reached the
 * application unparsable). Without _writev, Writable writes buffered chunks one at a time.
 * Regression tests: test/privileged/waypoint-security.test.ts (403/401 bodies, POST with a body).
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';

export function withoutBatchedWrites<T extends Duplex>(stream: T): T {
  if (!(stream instanceof net.Socket)) (stream as unknown as { _writev?: unknown })._writev = undefined;
  return stream;
}
