/**
 * JWKS documents for RequestAuthentication jwksUri, fetched off the request path and cached per
 * URI (Istio's defaults: refresh every 20 minutes, PILOT_JWT_PUB_KEY_REFRESH_INTERVAL).
 *
 * - A request never waits for the network except for the first use of a URI (nothing to serve
 *   yet) or an unknown `kid` (key rotation), the latter at most once per minute per URI.
 * - A failed fetch keeps the last good key set (Istio keeps serving the cached keys); a URI that
 *   never fetched successfully reports its last error, retried at most once per minute.
 * - Concurrent needs of one URI share one fetch.
 */
import http from 'node:http';
import https from 'node:https';
import { createLocalJWKSet, JSONWebKeySet } from 'jose';
import { silentLogger, type Logger } from '../../common/log';
import { WaypointError, WaypointErrorCodes } from '../errors';

export interface JwksSource {
  /** The JWKS document at `uri`; rejects with a reason on any failure. */
  get(uri: string, timeoutMs: number): Promise<JSONWebKeySet>;
}

export type KeyResolver = ReturnType<typeof createLocalJWKSet>;

const MAX_BYTES = 1 << 20;
export const DEFAULT_JWKS_TIMEOUT_MS = 5000;

/** Checks the document is a JWK Set (RFC 7517 section 5) before jose sees it. */
export function parseJwks(text: string): JSONWebKeySet {
  const doc = JSON.parse(text) as unknown;
  if (doc === null || typeof doc !== 'object' || !Array.isArray((doc as { keys?: unknown }).keys)) {
    throw new Error('not a JWK Set (expected {"keys": [...]})');
  }
  return doc as JSONWebKeySet;
}

/** GET over node:http/https with a whole-request timeout and a size cap. */
export class HttpJwksSource implements JwksSource {
  get(uri: string, timeoutMs: number): Promise<JSONWebKeySet> {
    return new Promise((resolve, reject) => {
      const url = new URL(uri);
      const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
      if (client === undefined) return reject(new Error(`unsupported scheme ${url.protocol}`));
      const req = client.get(url, { headers: { accept: 'application/json' }, timeout: timeoutMs }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`HTTP ${res.statusCode ?? 0}`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BYTES) req.destroy(new Error(`document larger than ${MAX_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          try {
            resolve(parseJwks(Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
    });
  }
}

export interface JwksCacheOptions {
  readonly now?: () => number;
  readonly refreshMs?: number;
  /** Least time between two fetches of one URI triggered by an unknown kid or a failure. */
  readonly minRefetchMs?: number;
  readonly logger?: Logger;
}

interface Entry {
  keys?: KeyResolver;
  fetchedAt: number;
  attemptedAt: number;
  error?: string;
  inflight?: Promise<void>;
}

export type KeysResult = { readonly ok: true; readonly keys: KeyResolver } | { readonly ok: false; readonly error: string };

export class JwksCache {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly refreshMs: number;
  private readonly minRefetchMs: number;
  private readonly log: Logger;

  constructor(
    private readonly source: JwksSource = new HttpJwksSource(),
    opts: JwksCacheOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.refreshMs = opts.refreshMs ?? 20 * 60_000;
    this.minRefetchMs = opts.minRefetchMs ?? 60_000;
    this.log = opts.logger ?? silentLogger;
  }

  /** The key set for `uri`: cached, refreshed in the background when older than the refresh interval. */
  async keys(uri: string, timeoutMs = DEFAULT_JWKS_TIMEOUT_MS): Promise<KeysResult> {
    const e = this.entry(uri);
    const now = this.now();
    if (e.keys !== undefined) {
      if (now - e.fetchedAt >= this.refreshMs && now - e.attemptedAt >= this.minRefetchMs && e.inflight === undefined) void this.fetch(uri, e, timeoutMs);
      return { ok: true, keys: e.keys };
    }
    if (e.inflight === undefined && (e.error === undefined || now - e.attemptedAt >= this.minRefetchMs)) void this.fetch(uri, e, timeoutMs);
    if (e.inflight !== undefined) await e.inflight;
    return e.keys !== undefined ? { ok: true, keys: e.keys } : { ok: false, error: e.error ?? 'not fetched yet' };
  }

  /**
   * A token named a kid the cached set lacks: the issuer may have rotated its keys. Refetches
   * (awaited) unless the URI was fetched in the last minute; true when a new set was fetched.
   */
  async refreshForUnknownKey(uri: string, timeoutMs = DEFAULT_JWKS_TIMEOUT_MS): Promise<boolean> {
    const e = this.entry(uri);
    if (e.inflight !== undefined) {
      await e.inflight;
      return e.error === undefined;
    }
    if (this.now() - e.attemptedAt < this.minRefetchMs) return false;
    await this.fetch(uri, e, timeoutMs);
    return e.error === undefined;
  }

  /** Starts fetching `uri` if nothing is cached (warm-up when config arrives). */
  prefetch(uri: string, timeoutMs = DEFAULT_JWKS_TIMEOUT_MS): void {
    const e = this.entry(uri);
    if (e.keys === undefined && e.inflight === undefined && e.attemptedAt === 0) void this.fetch(uri, e, timeoutMs);
  }

  private entry(uri: string): Entry {
    let e = this.entries.get(uri);
    if (e === undefined) this.entries.set(uri, (e = { fetchedAt: 0, attemptedAt: 0 }));
    return e;
  }

  private fetch(uri: string, e: Entry, timeoutMs: number): Promise<void> {
    e.attemptedAt = this.now();
    e.inflight = this.source.get(uri, timeoutMs).then(
      (doc) => {
        e.keys = createLocalJWKSet(doc);
        e.fetchedAt = this.now();
        e.error = undefined;
        e.inflight = undefined;
      },
      (err: unknown) => {
        e.error = err instanceof Error ? err.message : String(err);
        e.inflight = undefined;
        const failure = new WaypointError(WaypointErrorCodes.JWKS_UNAVAILABLE, `JWKS ${uri} could not be fetched: ${e.error}`, { cause: err });
        this.log.warn({ code: failure.code, uri, keptCachedKeys: e.keys !== undefined }, failure.message);
      },
    );
    return e.inflight;
  }
}
