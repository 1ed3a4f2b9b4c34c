/**
 * One watch response, as the API server streams it: HTTP 200, chunked, one JSON event per line
 * (ADDED / MODIFIED / DELETED / BOOKMARK / ERROR). It starts from a resourceVersion (replaying the
 * store's history after it; "" or "0" = synthetic ADDED for the current state), filters by
 * namespace and selectors (an object that starts or stops matching arrives as ADDED / DELETED),
 * sends bookmarks only when the client asked for them, and ends at timeoutSeconds.
 */
import type http from 'node:http';
import { ApiStatusError, statusBody, type Obj } from './api-status';
import type { ObjectStore, StoredEvent } from './object-store';
import { apiVersionOf, resourceId, type ServedResource } from './resources';

export interface WatchRequest {
  readonly resource: ServedResource;
  readonly namespace?: string;
  readonly matches: (o: Obj) => boolean;
  /** The resourceVersion query parameter ('' when absent). */
  readonly resourceVersion: string;
  readonly bookmarks: boolean;
  readonly timeoutMs?: number;
}

export class WatchStream {
  private ended = false;
  private timer?: NodeJS.Timeout;
  private readonly onEvent = (e: StoredEvent): void => this.deliver(e);
  /** The resourceVersion of the last event or bookmark sent. */
  lastSentRv = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly req: WatchRequest,
    private readonly res: http.ServerResponse,
    private readonly onEnd: (w: WatchStream) => void,
  ) {}

  get resource(): ServedResource {
    return this.req.resource;
  }

  start(): void {
    this.res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    this.res.flushHeaders();
    this.res.on('close', () => this.end());
    const rv = this.req.resourceVersion;
    if (rv === '' || rv === '0') {
      for (const o of this.store.list(this.req.resource, this.req.namespace)) if (this.req.matches(o)) this.send('ADDED', o);
    } else {
      let replay: StoredEvent[];
      try {
        replay = this.store.eventsSince(this.req.resource, Number(rv));
      } catch (e) {
        // The real server answers a too-old resourceVersion with 200 and one ERROR event (410 Expired).
        if (!(e instanceof ApiStatusError)) throw e;
        this.write({ type: 'ERROR', object: statusBody(e.code, e.reason, e.message) });
        this.end();
        return;
      }
      for (const e of replay) this.deliver(e);
    }
    // History replay and subscription happen in one tick: no write can fall between them.
    this.store.on('event', this.onEvent);
    if (this.req.timeoutMs !== undefined) this.timer = setTimeout(() => this.end(), this.req.timeoutMs);
  }

  /** Sends a BOOKMARK at the store's current resourceVersion, if the client asked for bookmarks. */
  bookmark(): boolean {
    if (!this.req.bookmarks || this.ended) return false;
    const rv = this.store.resourceVersion;
    const { resource } = this.req;
    this.write({ type: 'BOOKMARK', object: { kind: resource.kind, apiVersion: apiVersionOf(resource), metadata: { resourceVersion: String(rv) } } });
    this.lastSentRv = rv;
    return true;
  }

  /** Ends the response cleanly, as the server does at a watch timeout. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.store.off('event', this.onEvent);
    if (!this.res.writableEnded) this.res.end();
    this.onEnd(this);
  }

  private deliver(e: StoredEvent): void {
    if (e.resource !== resourceId(this.req.resource)) return;
    const inScope = (o: Obj | undefined): boolean =>
      o !== undefined && (this.req.namespace === undefined || o.metadata.namespace === this.req.namespace) && this.req.matches(o);
    const now = inScope(e.object);
    const before = e.type === 'MODIFIED' ? inScope(e.previous) : now;
    if (e.type === 'MODIFIED' && before !== now) this.send(now ? 'ADDED' : 'DELETED', e.object);
    else if (now) this.send(e.type, e.object);
  }

  private send(type: string, object: Obj): void {
    this.write({ type, object });
    this.lastSentRv = Number(object.metadata?.resourceVersion ?? this.lastSentRv);
  }

  private write(event: Obj): void {
    if (this.ended || this.res.writableEnded) return;
    this.res.write(`${JSON.stringify(event)}\n`);
  }
}
