/**
 * The last accepted config snapshot on disk, so an agent or waypoint restarted while the control
 * plane is away can serve with what it had (ARCHITECTURE: "keep the last accepted snapshot on disk").
 *
 * Layout: "AMBC", format byte, uint32 BE header length, JSON header, then a protobuf WatchResponse
 * (snapshot=true, everything in `added`) so the schema, not a JSON mapping, defines the content.
 * Writes go to a temp file (mode 0600: config names every workload) that is fsynced and renamed
 * over the old file, so a crash leaves either the old or the new snapshot, never half of one.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AmbitError, ErrorCodes } from '../errors';
import { decodeWatchResponse, encodeWatchResponse } from '../proto/codec';
import type { Resource__Output } from '../proto/generated/ambit/v1/Resource';

const MAGIC = Buffer.from('AMBC', 'ascii');
const FORMAT = 1;
const PREAMBLE = MAGIC.length + 1 + 4;

export interface SnapshotHeader {
  /** Whose snapshot this is ("node:<node>" or "waypoint:<ns>/<name>" plus types). */
  readonly subscription: string;
  readonly version: string;
  readonly savedAt: string;
}

export interface CachedSnapshot extends SnapshotHeader {
  readonly resources: Resource__Output[];
}

export function encodeSnapshotFile(header: Omit<SnapshotHeader, 'savedAt'>, resources: Iterable<Resource__Output>): Buffer {
  const full: SnapshotHeader = { ...header, savedAt: new Date().toISOString() };
  const json = Buffer.from(JSON.stringify(full), 'utf8');
  const body = encodeWatchResponse({ version: header.version, snapshot: true, added: [...resources] });
  const pre = Buffer.alloc(PREAMBLE);
  MAGIC.copy(pre, 0);
  pre.writeUInt8(FORMAT, MAGIC.length);
  pre.writeUInt32BE(json.length, MAGIC.length + 1);
  return Buffer.concat([pre, json, body]);
}

export function decodeSnapshotFile(file: string, data: Buffer): CachedSnapshot {
  const bad = (why: string): never => {
    throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `config cache ${file} is unusable (${why}); delete it or let the client rewrite it`);
  };
  if (data.length < PREAMBLE || !data.subarray(0, MAGIC.length).equals(MAGIC)) bad('not an Ambit config snapshot');
  const format = data.readUInt8(MAGIC.length);
  if (format !== FORMAT) bad(`format ${format}, this build reads ${FORMAT}`);
  const headerLength = data.readUInt32BE(MAGIC.length + 1);
  if (PREAMBLE + headerLength > data.length) bad('truncated header');
  let header: SnapshotHeader;
  try {
    header = JSON.parse(data.subarray(PREAMBLE, PREAMBLE + headerLength).toString('utf8')) as SnapshotHeader;
  } catch {
    return bad('header is not JSON');
  }
  if (typeof header.subscription !== 'string' || typeof header.version !== 'string') bad('header fields missing');
  let response;
  try {
    response = decodeWatchResponse(data.subarray(PREAMBLE + headerLength));
  } catch (err) {
    return bad(`body does not decode: ${(err as Error).message}`);
  }
  if (!response.snapshot || response.version !== header.version) bad('body is not the snapshot the header names');
  if (response.added.some((r) => r.key === null)) bad('a resource has no key');
  return { ...header, resources: response.added };
}

/** The cached snapshot, or undefined when there is none yet. Throws when the file is unusable. */
export async function readSnapshotFile(file: string): Promise<CachedSnapshot | undefined> {
  let data: Buffer;
  try {
    data = await fs.promises.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return decodeSnapshotFile(file, data);
}

/** Atomically replaces `file` with `data` (temp file in the same directory, fsync, rename). */
export async function writeFileAtomic(file: string, data: Buffer): Promise<void> {
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await fs.promises.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Serialises saves: one write at a time, and while one runs only the newest pending state is kept,
 * so a burst of accepted updates costs at most two writes.
 */
export class SnapshotWriter {
  private pending: (() => Buffer) | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly file: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Queues a save; `encode` runs when the write starts, so it sees the newest state. */
  save(encode: () => Buffer): void {
    this.pending = encode;
    // Encoding a large state takes milliseconds: start on a later turn, not inside the caller.
    this.running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  /** Resolves once every queued save has been written (or failed and been reported). */
  async flush(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== undefined) {
        const encode = this.pending;
        this.pending = undefined;
        try {
          await writeFileAtomic(this.file, encode());
        } catch (err) {
          this.onError(err);
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
