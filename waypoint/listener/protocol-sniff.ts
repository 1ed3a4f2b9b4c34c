/**
 * Which protocol a client speaks inside a tunnel, from its first bytes: the HTTP/2 connection
 * preface (prior knowledge, RFC 9113 §3.4: how gRPC and h2c clients start), an HTTP/1 request line,
 * or anything else (TCP). Server-first protocols send nothing, so detection gives up after a
 * deadline and proxies TCP. The bytes read are pushed back; the stream is unchanged for the next
 * reader.
 */
import type { Duplex } from 'node:stream';

export type SniffedProtocol = 'h2' | 'http1' | 'tcp';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** An HTTP/1 request line starts with a method token and a space (RFC 9112 §3). */
const HTTP1_METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20} /;

export function classify(raw: Buffer): SniffedProtocol | undefined {
  // RFC 9112 §2.2: a server SHOULD ignore empty lines before the request line; so must detection,
  // or "\r\nGET /admin" would pass as TCP, past every L7 policy, to a backend that parses it.
  let skip = 0;
  while (skip < raw.length && (raw[skip] === 0x0d || raw[skip] === 0x0a)) skip++;
  if (skip === raw.length) return raw.length > 64 ? 'tcp' : undefined;
  const head = skip > 0 ? raw.subarray(skip) : raw;
  const n = Math.min(head.length, H2_PREFACE.length);
  if (head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return head.length >= H2_PREFACE.length ? 'h2' : undefined;
  const text = head.subarray(0, 24).toString('latin1');
  if (HTTP1_METHOD.test(text)) return 'http1';
  if (head.length < 21 && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*$/.test(text)) return undefined; // a method still arriving
  return 'tcp';
}

export function sniffProtocol(stream: Duplex, timeoutMs: number): Promise<SniffedProtocol> {
  return new Promise((resolve) => {
    let head: Buffer = Buffer.alloc(0);
    const finish = (p: SniffedProtocol): void => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onEnd);
      stream.pause();
      if (head.length > 0) stream.unshift(head);
      resolve(p);
    };
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const p = classify(head);
      if (p) finish(p);
    };
    const onEnd = (): void => finish(head.length > 0 ? (classify(head) ?? 'tcp') : 'tcp');
    const timer = setTimeout(() => finish('tcp'), timeoutMs);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', onEnd);
  });
}
