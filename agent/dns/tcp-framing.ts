/**
 * DNS over TCP framing (RFC 1035 section 4.2.2, RFC 7766): every message is
 * preceded by its length as two bytes, big-endian.
 */

export const MAX_DNS_MESSAGE = 65535;

export function frame(message: Buffer): Buffer {
  if (message.length > MAX_DNS_MESSAGE) throw new RangeError(`a DNS message is at most ${MAX_DNS_MESSAGE} bytes, got ${message.length}`);
  const out = Buffer.allocUnsafe(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}

/** Collects stream chunks and hands out whole messages. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** Feed a chunk; returns every message it completes (possibly none). */
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: Buffer[] = [];
    while (this.buffered.length >= 2) {
      const len = this.buffered.readUInt16BE(0);
      if (this.buffered.length < 2 + len) break;
      out.push(Buffer.from(this.buffered.subarray(2, 2 + len)));
      this.buffered = this.buffered.subarray(2 + len);
    }
    return out;
  }

  /** Bytes of an incomplete message still waiting for the rest. */
  get pending(): number {
    return this.buffered.length;
  }
}
