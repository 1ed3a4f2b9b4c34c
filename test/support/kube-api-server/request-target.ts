/**
 * An API path and method to what the request is about, the way the API server's request-info
 * resolver does it: group, version, resource, namespace, name, subresource, and the RBAC verb
 * (get, list, watch, create, update, patch, delete).
 */
import { findResource, type ServedResource } from './resources';

export interface RequestTarget {
  readonly resource: ServedResource;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
  readonly verb: string;
}

export type ParsedPath =
  | { kind: 'resource'; target: RequestTarget }
  | { kind: 'tokenreview' }
  | { kind: 'unknown'; message: string };

export function parseApiPath(method: string, url: URL): ParsedPath {
  const segs = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) [group, version, rest] = ['', segs[1], segs.slice(2)];
  else if (segs[0] === 'apis' && segs.length >= 3) [group, version, rest] = [segs[1], segs[2], segs.slice(3)];
  else return { kind: 'unknown', message: `the server could not find the requested resource (${url.pathname})` };
  if (group === 'authentication.k8s.io' && version === 'v1' && rest[0] === 'tokenreviews' && method === 'POST') return { kind: 'tokenreview' };

  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && findResource(group, version, rest[2])?.namespaced === true) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  const resource = plural === undefined ? undefined : findResource(group, version, plural);
  if (resource === undefined || extra.length > 0) {
    return { kind: 'unknown', message: `the server could not find the requested resource (${url.pathname})` };
  }
  const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
  const verb =
    method === 'GET' ? (name === undefined ? (watch ? 'watch' : 'list') : 'get')
    : method === 'POST' ? 'create'
    : method === 'PUT' ? 'update'
    : method === 'PATCH' ? 'patch'
    : method === 'DELETE' ? 'delete'
    : method.toLowerCase();
  return { kind: 'resource', target: { resource, namespace, name, subresource, verb } };
}
