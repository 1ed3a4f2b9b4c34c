/**
 * PATCH bodies the API server accepts: JSON merge patch (RFC 7386; strategic merge patch is
 * treated the same, which is exact for the maps this server's clients patch) and JSON patch
 * (RFC 6902: add, replace, remove, test).
 */
import { badRequest, type Obj } from './api-status';

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Obj = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Obj) } : {};
  for (const [k, v] of Object.entries(patch as Obj)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const unescape = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~');

export function jsonPatch(target: Obj, ops: unknown): Obj {
  if (!Array.isArray(ops)) throw badRequest('a JSON patch must be an array of operations');
  const doc = structuredClone(target);
  for (const op of ops as Obj[]) {
    const path = String(op.path ?? '').split('/').slice(1).map(unescape);
    if (path.length === 0) throw badRequest(`JSON patch op ${JSON.stringify(op)} has no path`);
    const last = path.pop() as string;
    let parent: any = doc;
    for (const p of path) {
      parent = parent?.[Array.isArray(parent) ? Number(p) : p];
      if (parent === undefined) throw badRequest(`JSON patch path ${op.path} does not exist`);
    }
    const idx = Array.isArray(parent) ? (last === '-' ? parent.length : Number(last)) : last;
    switch (op.op) {
      case 'add':
        if (Array.isArray(parent)) parent.splice(idx as number, 0, op.value);
        else parent[idx] = op.value;
        break;
      case 'replace':
        parent[idx] = op.value;
        break;
      case 'remove':
        if (Array.isArray(parent)) parent.splice(idx as number, 1);
        else delete parent[idx];
        break;
      case 'test':
        if (JSON.stringify(parent[idx]) !== JSON.stringify(op.value)) throw badRequest(`JSON patch test failed at ${op.path}`);
        break;
      default:
        throw badRequest(`JSON patch op ${JSON.stringify(op.op)} is not supported`);
    }
  }
  return doc;
}
