/**
 * Requests on a served resource: get, list (with limit/continue), watch, create, update (PUT),
 * patch and delete, each answered the way the API server answers it (status codes, Status bodies,
 * list metadata with the resourceVersion to watch from).
 */
import { randomBytes } from 'node:crypto';
import { ApiStatusError, badRequest, expired, type Obj } from './api-status';
import type { ObjectStore } from './object-store';
import { jsonPatch, mergePatch } from './patch';
import type { RequestTarget } from './request-target';
import { apiVersionOf, type ServedResource } from './resources';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors';

export interface Reply {
  status: number;
  body: Obj;
}

/** Built-in kinds are encoded without apiVersion/kind on list items; custom resources keep them. */
const BUILT_IN_GROUPS = new Set(['', 'apps', 'discovery.k8s.io', 'coordination.k8s.io']);

interface ListSnapshot {
  rv: number;
  items: Obj[];
  offset: number;
}

export class ResourceHandler {
  /** Continue tokens: the rest of a paged list, consistent at the first page's resourceVersion. */
  private readonly snapshots = new Map<string, ListSnapshot>();

  constructor(private readonly store: ObjectStore) {}

  /** The filter a list or watch applies (label and field selectors). */
  matcher(url: URL): (o: Obj) => boolean {
    try {
      const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
      const fields = parseFieldSelector(url.searchParams.get('fieldSelector'));
      return (o) => labels(o.metadata?.labels) && fields(o);
    } catch (e) {
      if (e instanceof SelectorError) throw badRequest(e.message);
      throw e;
    }
  }

  handle(t: RequestTarget, url: URL, body: Obj | undefined, contentType: string): Reply {
    const res = t.resource;
    switch (t.verb) {
      case 'get':
        return { status: 200, body: this.store.get(res, t.namespace, t.name as string) };
      case 'list':
        return { status: 200, body: this.list(res, t.namespace, url) };
      case 'create':
        return { status: 201, body: this.store.create(res, this.withNamespace(t, body)) };
      case 'update': {
        const o = this.withNamespace(t, body);
        if (o.metadata?.name !== t.name) throw badRequest(`the name of the object (${o.metadata?.name}) does not match the name on the URL (${t.name})`);
        return { status: 200, body: this.store.update(res, o, this.statusSub(t)) };
      }
      case 'patch': {
        const current = this.store.get(res, t.namespace, t.name as string);
        const patched = contentType.startsWith('application/json-patch+json') ? jsonPatch(current, body) : (mergePatch(current, body) as Obj);
        // A patch is unconditional unless it carries a resourceVersion itself.
        const rvInPatch = (body as Obj | undefined)?.metadata?.resourceVersion;
        patched.metadata = { ...patched.metadata, resourceVersion: rvInPatch ?? current.metadata.resourceVersion };
        return { status: 200, body: this.store.update(res, patched, this.statusSub(t)) };
      }
      case 'delete':
        return { status: 200, body: this.store.delete(res, t.namespace, t.name as string) };
      default:
        throw new ApiStatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
  }

  private statusSub(t: RequestTarget): 'status' | undefined {
    if (t.subresource === undefined) return undefined;
    if (t.subresource === 'status' && t.resource.statusSubresource) return 'status';
    throw new ApiStatusError(404, 'NotFound', `${t.resource.plural}/${t.subresource} is not served`);
  }

  private withNamespace(t: RequestTarget, body: Obj | undefined): Obj {
    if (body === undefined || typeof body !== 'object') throw badRequest('the request body must be a JSON object');
    const o = structuredClone(body);
    o.metadata ??= {};
    if (t.resource.namespaced) {
      if (o.metadata.namespace !== undefined && o.metadata.namespace !== t.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      o.metadata.namespace = t.namespace;
    }
    return o;
  }

  private list(res: ServedResource, namespace: string | undefined, url: URL): Obj {
    const cont = url.searchParams.get('continue');
    const limit = Number(url.searchParams.get('limit') ?? '0');
    let snap: ListSnapshot;
    if (cont !== null && cont !== '') {
      const found = this.snapshots.get(cont);
      if (found === undefined) throw badRequest('continue key is not valid');
      this.snapshots.delete(cont);
      if (found.rv < this.store.compactedResourceVersion) {
        throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      snap = found;
    } else {
      const matches = this.matcher(url);
      snap = { rv: this.store.resourceVersion, items: this.store.list(res, namespace).filter(matches), offset: 0 };
    }
    const end = limit > 0 ? Math.min(snap.offset + limit, snap.items.length) : snap.items.length;
    const page = snap.items.slice(snap.offset, end);
    const metadata: Obj = { resourceVersion: String(snap.rv) };
    if (end < snap.items.length) {
      const token = randomBytes(12).toString('base64url');
      this.snapshots.set(token, { ...snap, offset: end });
      metadata.continue = token;
      metadata.remainingItemCount = snap.items.length - end;
    }
    const items = BUILT_IN_GROUPS.has(res.group) ? page.map(({ apiVersion: _a, kind: _k, ...rest }) => rest) : page;
    return { kind: `${res.kind}List`, apiVersion: apiVersionOf(res), metadata, items };
  }
}
