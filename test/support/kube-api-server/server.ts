/**
 * A test Kubernetes API server: real HTTP on 127.0.0.1:0 speaking the list/watch protocol the real
 * one speaks (list resourceVersions, chunked newline-delimited watch events, bookmarks on
 * request, 410 Gone after compaction, optimistic concurrency, status subresources, TokenReview),
 * with knobs a test needs to exercise a client's recovery paths: compact history, close or hold
 * watches, send bookmarks, fail requests. Every request is recorded (verb, resource), so a test
 * can compare what a client did with the RBAC it claims to need.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { ApiStatusError, statusBody, type Obj } from './api-status';
import { ObjectStore } from './object-store';
import { parseApiPath, type RequestTarget } from './request-target';
import { ResourceHandler } from './resource-handler';
import { resourceId, resourceOfKind, type ServedResource } from './resources';
import { TokenReviews } from './token-reviews';
import { WatchStream } from './watch-stream';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly verb: string;
  /** "pods", "apps/deployments", "authentication.k8s.io/tokenreviews". */
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly query: Readonly<Record<string, string>>;
  /** The kubeconfig user (see addUser) the request authenticated as. */
  readonly user?: string;
  /** When it arrived (ms since the epoch). */
  readonly at: number;
  status?: number;
}

interface Failure {
  verb?: string;
  resource?: string;
  status: number;
  reason: string;
  remaining: number;
}

export interface KubeApiServerOptions {
  /** Send a BOOKMARK to watches that asked for them every this many ms (0 = only sendBookmarks()). */
  bookmarkIntervalMs?: number;
}

export class KubeApiServer {
  readonly store = new ObjectStore();
  readonly requests: RecordedRequest[] = [];
  readonly tokenReviews = new TokenReviews();
  /** The default user's bearer token (written into the kubeconfig). */
  readonly token = randomBytes(16).toString('hex');
  /** token -> user name: requests carry one of these. */
  private readonly users = new Map<string, string>([[this.token, 'test']]);
  /** Resources answered 404, as when their CRD is not installed. */
  private readonly unserved = new Set<string>();
  private readonly handler = new ResourceHandler(this.store);
  private readonly watches = new Set<WatchStream>();
  private held: Array<() => void> | undefined;
  private readonly failures: Failure[] = [];
  private bookmarkTimer?: NodeJS.Timeout;
  private url_ = '';

  private constructor(private readonly server: http.Server) {}

  static async start(opts: KubeApiServerOptions = {}): Promise<KubeApiServer> {
    const server = http.createServer();
    const api = new KubeApiServer(server);
    server.on('request', (req, res) => void api.onRequest(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    api.url_ = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (opts.bookmarkIntervalMs) api.bookmarkTimer = setInterval(() => api.sendBookmarks(), opts.bookmarkIntervalMs);
    return api;
  }

  get url(): string {
    return this.url_;
  }

  /** Adds a user with its own token, so the request log tells clients apart; returns the token. */
  addUser(name: string): string {
    const token = randomBytes(16).toString('hex');
    this.users.set(token, name);
    return token;
  }

  /** Writes a kubeconfig for this server (token auth, as `user`) into `dir`; returns its path. */
  writeKubeconfig(dir: string, user = 'test'): string {
    const token = [...this.users].find(([, u]) => u === user)?.[0];
    if (token === undefined) throw new Error(`no user ${user}; call addUser first`);
    const file = path.join(dir, `kubeconfig-${user}`);
    const doc = {
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain http unless TLS verification is switched off explicitly.
      clusters: [{ name: 'test', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'test', user: { token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'test' } }],
      'current-context': 'test',
    };
    fs.writeFileSync(file, YAML.stringify(doc), { mode: 0o600 });
    return file;
  }

  // ---- writes from the test, through the same store (they reach watches like API writes)

  /** Creates the object, or replaces it (unconditionally) when it exists. */
  apply(o: Obj): Obj {
    const res = resourceOfKind(o.kind, o.apiVersion);
    const existing = this.store.find(res, o.metadata?.namespace ?? (res.namespaced ? 'default' : undefined), o.metadata.name);
    const input = { ...o, metadata: { ...o.metadata, namespace: res.namespaced ? (o.metadata.namespace ?? 'default') : undefined } };
    if (existing === undefined) return this.store.create(res, input);
    const updated = this.store.update(res, { ...input, metadata: { ...input.metadata, resourceVersion: undefined } });
    return o.status === undefined || !res.statusSubresource ? updated : this.store.update(res, { ...updated, status: o.status }, 'status');
  }

  get(kind: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.store.find(resourceOfKind(kind), namespace, name);
  }

  list(kind: string, namespace?: string): Obj[] {
    return this.store.list(resourceOfKind(kind), namespace);
  }

  /** Changes an existing object with `mutate` (status included) and writes it. */
  modify(kind: string, namespace: string | undefined, name: string, mutate: (o: Obj) => void): Obj {
    const res = resourceOfKind(kind);
    const o = this.store.get(res, namespace, name);
    mutate(o);
    const updated = this.store.update(res, o);
    return res.statusSubresource ? this.store.update(res, { ...updated, status: o.status }, 'status') : updated;
  }

  remove(kind: string, namespace: string | undefined, name: string): Obj {
    return this.store.delete(resourceOfKind(kind), namespace, name);
  }

  // ---- protocol knobs

  /** Forgets history: watches from an older resourceVersion now get ERROR 410 Expired. */
  compact(): void {
    this.store.compact();
  }

  /** Ends open watches cleanly (as a server timeout or restart does); returns how many. */
  closeWatches(resource?: string): number {
    const which = [...this.watches].filter((w) => resource === undefined || resourceId(w.resource) === resource);
    for (const w of which) w.end();
    return which.length;
  }

  /** Holds new watch requests unanswered until releaseWatches(), so the test can act in between. */
  holdWatches(): void {
    this.held ??= [];
  }

  releaseWatches(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const go of held) go();
  }

  /** Sends a BOOKMARK at the current resourceVersion to every watch that asked for bookmarks. */
  sendBookmarks(): number {
    let n = 0;
    for (const w of this.watches) if (w.bookmark()) n++;
    return n;
  }

  /** Answers `resource` ("gateway.networking.k8s.io/grpcroutes") 404 from now on, as without its CRD. */
  unserve(resource: string): void {
    this.unserved.add(resource);
  }

  serve(resource: string): void {
    this.unserved.delete(resource);
  }

  openWatches(resource?: string): number {
    return [...this.watches].filter((w) => resource === undefined || resourceId(w.resource) === resource).length;
  }

  /** The next `count` requests matching verb/resource fail with `status` (a Status body). */
  failRequests(match: { verb?: string; resource?: string }, status: number, count: number, reason = 'InternalError'): void {
    this.failures.push({ ...match, status, reason, remaining: count });
  }

  async close(): Promise<void> {
    clearInterval(this.bookmarkTimer);
    this.releaseWatches();
    for (const w of [...this.watches]) w.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- HTTP

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const send = (status: number, body: Obj): void => {
      record.status = status;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const parsed = parseApiPath(method, url);
    const target: RequestTarget | undefined = parsed.kind === 'resource' ? parsed.target : undefined;
    const record: RecordedRequest = {
      method,
      url: req.url ?? '/',
      verb: parsed.kind === 'tokenreview' ? 'create' : (target?.verb ?? method.toLowerCase()),
      resource: parsed.kind === 'tokenreview' ? 'authentication.k8s.io/tokenreviews' : target ? resourceId(target.resource) : url.pathname,
      subresource: target?.subresource,
      namespace: target?.namespace,
      name: target?.name,
      query: Object.fromEntries(url.searchParams),
      user: this.users.get(String(req.headers.authorization ?? '').replace(/^Bearer /, '')),
      at: Date.now(),
    };
    this.requests.push(record);
    if (record.user === undefined) return send(401, statusBody(401, 'Unauthorized', 'Unauthorized'));
    if (this.unserved.has(record.resource)) return send(404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
    const failure = this.failures.find((f) => f.remaining > 0 && (f.verb === undefined || f.verb === record.verb) && (f.resource === undefined || f.resource === record.resource));
    if (failure !== undefined) {
      failure.remaining--;
      return send(failure.status, statusBody(failure.status, failure.reason, `injected failure for ${record.verb} ${record.resource}`));
    }
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text === '' ? undefined : (JSON.parse(text) as Obj);
      if (parsed.kind === 'unknown') return send(404, statusBody(404, 'NotFound', parsed.message));
      if (parsed.kind === 'tokenreview') return send(201, this.tokenReviews.review(body ?? {}));
      if (target!.verb === 'watch') return this.watch(target!, url, req, res, record);
      const reply = this.handler.handle(target!, url, body, String(req.headers['content-type'] ?? 'application/json'));
      send(reply.status, reply.body);
    } catch (e) {
      if (e instanceof ApiStatusError) return send(e.code, statusBody(e.code, e.reason, e.message));
      if (e instanceof SyntaxError) return send(400, statusBody(400, 'BadRequest', `invalid JSON body: ${e.message}`));
      send(500, statusBody(500, 'InternalError', (e as Error).message));
    }
  }

  private watch(t: RequestTarget, url: URL, req: http.IncomingMessage, res: http.ServerResponse, record: RecordedRequest): void {
    const matches = this.handler.matcher(url); // a bad selector is a 400 now, not after a hold
    const go = (): void => {
      if (res.destroyed || res.writableEnded) return; // the client gave up while held (req is already consumed)
      const timeout = Number(url.searchParams.get('timeoutSeconds') ?? '0');
      const stream = new WatchStream(
        this.store,
        {
          resource: t.resource as ServedResource,
          namespace: t.namespace,
          matches,
          resourceVersion: url.searchParams.get('resourceVersion') ?? '',
          bookmarks: url.searchParams.get('allowWatchBookmarks') === 'true',
          timeoutMs: timeout > 0 ? timeout * 1000 : undefined,
        },
        res,
        (w) => this.watches.delete(w),
      );
      record.status = 200;
      this.watches.add(stream);
      stream.start();
    };
    if (this.held !== undefined) this.held.push(go);
    else go();
  }
}
